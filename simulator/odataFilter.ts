import { badRequest } from "./errors";

/**
 * The `$filter` subset MDE documents for `GET /api/machineactions` (list machineactions): `id`, `status`,
 * `machineId`, `type`, `requestor` with `eq`/`ne`/`in (...)`, and
 * `creationDateTimeUtc` / `lastUpdateDateTimeUtc` with `eq`/`ne`/`gt`/`ge`/`lt`/`le`, combined with
 * `and`, `or` and parentheses; and for `GET /api/machines` (list machines) the machine fields, plus
 * `startswith(field,'x')` and `machineTags/any(tag: tag eq 'x')`. Anything else is 400 `InvalidInput`.
 * Sources: https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection,
 * https://learn.microsoft.com/defender-endpoint/api/get-machines and
 * https://learn.microsoft.com/defender-endpoint/api/exposed-apis-odata-samples.
 */

/** The fields of a wire entity a filter can read. */
export type FilterableAction = Record<string, unknown>;
export type ActionPredicate = (action: FilterableAction) => boolean;

/** Which fields of an entity a filter may name, and how they compare. */
export interface FilterSchema {
  stringFields: string[];
  dateFields: string[];
  /** String arrays, filtered with `field/any(x: x eq 'v')`. */
  collectionFields?: string[];
  /** Whether `startswith(field,'v')` is allowed (MDE documents it for machines, not for machine actions). */
  startsWith?: boolean;
}

const ACTION_SCHEMA: FilterSchema = {
  stringFields: ["id", "status", "machineId", "type", "requestor"],
  dateFields: ["creationDateTimeUtc", "lastUpdateDateTimeUtc"],
};
/** The machine fields the collector's plans filter on (https://learn.microsoft.com/defender-endpoint/api/get-machines). */
const MACHINE_SCHEMA: FilterSchema = {
  stringFields: ["id", "computerDnsName", "osPlatform", "healthStatus", "riskScore", "exposureLevel", "aadDeviceId", "onboardingStatus"],
  dateFields: ["lastSeen"],
  collectionFields: ["machineTags"],
  startsWith: true,
};
const COMPARISONS = ["eq", "ne", "gt", "ge", "lt", "le"];

type Token = { kind: "word" | "string" | "open" | "close" | "comma"; text: string };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i]!;
    if (/\s/.test(ch)) i++;
    else if (ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: ch === "(" ? "open" : ch === ")" ? "close" : "comma", text: ch });
      i++;
    } else if (ch === "'") {
      // OData string literal: a doubled quote is an escaped quote.
      let value = "";
      i++;
      for (;;) {
        if (i >= filter.length) throw invalid("unterminated string literal");
        if (filter[i] === "'" && filter[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (filter[i] === "'") break;
        else value += filter[i++];
      }
      i++;
      tokens.push({ kind: "string", text: value });
    } else {
      const m = /^[^\s(),']+/.exec(filter.slice(i))!;
      tokens.push({ kind: "word", text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

const invalid = (why: string) => badRequest("InvalidInput", `Invalid $filter: ${why}`);

/**
 * Parses a `$filter` expression into a predicate over wire MachineAction objects.
 * @throws SimulatorHttpError 400 InvalidInput
 */
export function parseActionFilter(filter: string): ActionPredicate {
  return parseFilter(filter, ACTION_SCHEMA);
}

/**
 * Parses a `GET /api/machines` `$filter` into a predicate over wire Machine objects.
 * @throws SimulatorHttpError 400 InvalidInput
 */
export function parseMachineFilter(filter: string): ActionPredicate {
  return parseFilter(filter, MACHINE_SCHEMA);
}

function parseFilter(filter: string, schema: FilterSchema): ActionPredicate {
  const STRING_FIELDS = schema.stringFields;
  const DATE_FIELDS = schema.dateFields;
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const keyword = (k: string) => peek()?.kind === "word" && peek()!.text.toLowerCase() === k;

  const parseOr = (): ActionPredicate => {
    let left = parseAnd();
    while (keyword("or")) {
      next();
      const l = left,
        r = parseAnd();
      left = (a) => l(a) || r(a);
    }
    return left;
  };
  const parseAnd = (): ActionPredicate => {
    let left = parsePrimary();
    while (keyword("and")) {
      next();
      const l = left,
        r = parsePrimary();
      left = (a) => l(a) && r(a);
    }
    return left;
  };
  const parsePrimary = (): ActionPredicate => {
    const t = next();
    if (!t) throw invalid("unexpected end of expression");
    if (t.kind === "open") {
      const inner = parseOr();
      if (next()?.kind !== "close") throw invalid("missing ')'");
      return inner;
    }
    if (t.kind !== "word") throw invalid(`unexpected '${t.text}'`);
    if (schema.startsWith && t.text.toLowerCase() === "startswith" && peek()?.kind === "open") return parseStartsWith();
    const any = /^([A-Za-z]+)\/any$/i.exec(t.text);
    if (any) return parseAny(any[1]!);
    const field = [...STRING_FIELDS, ...DATE_FIELDS].find((f) => f.toLowerCase() === t.text.toLowerCase());
    if (!field) throw invalid(`property '${t.text}' cannot be filtered on`);
    const op = next();
    if (!op || op.kind !== "word") throw invalid(`operator expected after '${t.text}'`);
    const operator = op.text.toLowerCase();
    if (operator === "in") return parseIn(field);
    if (!COMPARISONS.includes(operator)) throw invalid(`unsupported operator '${op.text}'`);
    const literal = next();
    if (!literal || (literal.kind !== "string" && literal.kind !== "word")) throw invalid(`value expected after '${op.text}'`);
    if (DATE_FIELDS.includes(field)) return dateComparison(field, operator, literal.text);
    if (literal.kind !== "string") throw invalid(`'${field}' needs a quoted string`);
    if (operator !== "eq" && operator !== "ne") throw invalid(`'${field}' supports eq, ne and in`);
    const value = literal.text.toLowerCase();
    return operator === "eq"
      ? (a) => String(a[field] ?? "").toLowerCase() === value
      : (a) => String(a[field] ?? "").toLowerCase() !== value;
  };
  const stringField = (text: string | undefined): string => {
    const field = STRING_FIELDS.find((f) => f.toLowerCase() === text?.toLowerCase());
    if (!field) throw invalid(`property '${text}' cannot be filtered on with startswith`);
    return field;
  };
  // startswith(computerDnsName,'web'): case-insensitive, as MDE's examples use it.
  const parseStartsWith = (): ActionPredicate => {
    next();
    const field = stringField(next()?.text);
    if (next()?.kind !== "comma") throw invalid("',' expected in startswith(field,'value')");
    const v = next();
    if (v?.kind !== "string") throw invalid("quoted string expected in startswith(field,'value')");
    if (next()?.kind !== "close") throw invalid("')' expected after startswith(field,'value'");
    const prefix = v.text.toLowerCase();
    return (a) =>
      String(a[field] ?? "")
        .toLowerCase()
        .startsWith(prefix);
  };
  // machineTags/any(tag: tag eq 'x'): the lambda form MDE documents for tags.
  const parseAny = (name: string): ActionPredicate => {
    const field = (schema.collectionFields ?? []).find((f) => f.toLowerCase() === name.toLowerCase());
    if (!field) throw invalid(`property '${name}' is not a collection`);
    if (next()?.kind !== "open") throw invalid(`'(' expected after '${name}/any'`);
    const head = next()?.text ?? "";
    const [variable, rest] = head.split(":");
    const ref = rest ? rest : next()?.text;
    if (!variable || ref?.toLowerCase() !== variable.toLowerCase()) throw invalid(`expected '${name}/any(x: x eq 'value')'`);
    if (next()?.text.toLowerCase() !== "eq") throw invalid("only 'eq' is supported inside any()");
    const v = next();
    if (v?.kind !== "string") throw invalid("quoted string expected inside any()");
    if (next()?.kind !== "close") throw invalid("')' expected to close any()");
    const value = v.text.toLowerCase();
    return (a) => Array.isArray(a[field]) && (a[field] as unknown[]).some((x) => String(x).toLowerCase() === value);
  };
  const parseIn = (field: string): ActionPredicate => {
    if (!STRING_FIELDS.includes(field)) throw invalid(`'in' is not supported on '${field}'`);
    if (next()?.kind !== "open") throw invalid("'(' expected after 'in'");
    const values: string[] = [];
    for (;;) {
      const v = next();
      if (!v || v.kind !== "string") throw invalid("quoted string expected in 'in (...)'");
      values.push(v.text.toLowerCase());
      const sep = next();
      if (sep?.kind === "close") break;
      if (sep?.kind !== "comma") throw invalid("',' or ')' expected in 'in (...)'");
    }
    return (a) => values.includes(String(a[field] ?? "").toLowerCase());
  };

  const predicate = parseOr();
  if (pos < tokens.length) throw invalid(`unexpected '${tokens[pos]!.text}'`);
  return predicate;
}

function dateComparison(field: string, operator: string, text: string): ActionPredicate {
  // OData v4 writes DateTimeOffset literals unquoted (2024-01-01T00:00:00Z); MDE's examples also use a bare date (2019-01-01Z).
  const normalized = /^\d{4}-\d{2}-\d{2}Z?$/.test(text) ? `${text.replace(/Z$/, "")}T00:00:00Z` : text;
  const bound = Date.parse(normalized);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(bound)) throw invalid(`'${text}' is not a date-time`);
  return (a) => {
    const v = Date.parse(String(a[field] ?? ""));
    if (Number.isNaN(v)) return false;
    switch (operator) {
      case "eq":
        return v === bound;
      case "ne":
        return v !== bound;
      case "gt":
        return v > bound;
      case "ge":
        return v >= bound;
      case "lt":
        return v < bound;
      default:
        return v <= bound;
    }
  };
}
