import { badRequest } from "./errors";

/**
 * The `$filter` subset MDE documents for `GET /api/machineactions` (mde-api-facts.md, "MachineAction
 * entity"): `id`, `status`, `machineId`, `type`, `requestor` with `eq`/`ne`/`in (...)`, and
 * `creationDateTimeUtc` / `lastUpdateDateTimeUtc` with `eq`/`ne`/`gt`/`ge`/`lt`/`le`, combined with
 * `and`, `or` and parentheses. Anything else is 400 `InvalidInput`.
 */

/** The fields of a wire MachineAction a filter can read. */
export type FilterableAction = Record<string, unknown>;
export type ActionPredicate = (action: FilterableAction) => boolean;

const STRING_FIELDS = ["id", "status", "machineId", "type", "requestor"];
const DATE_FIELDS = ["creationDateTimeUtc", "lastUpdateDateTimeUtc"];
const COMPARISONS = ["eq", "ne", "gt", "ge", "lt", "le"];

type Token = { kind: "word" | "string" | "open" | "close" | "comma"; text: string };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i]!;
    if (/\s/.test(ch)) i++;
    else if (ch === "(") (tokens.push({ kind: "open", text: ch }), i++);
    else if (ch === ")") (tokens.push({ kind: "close", text: ch }), i++);
    else if (ch === ",") (tokens.push({ kind: "comma", text: ch }), i++);
    else if (ch === "'") {
      // OData string literal: a doubled quote is an escaped quote.
      let value = "";
      i++;
      for (;;) {
        if (i >= filter.length) throw invalid("unterminated string literal");
        if (filter[i] === "'" && filter[i + 1] === "'") (value += "'", (i += 2));
        else if (filter[i] === "'") break;
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
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const keyword = (k: string) => peek()?.kind === "word" && peek()!.text.toLowerCase() === k;

  const parseOr = (): ActionPredicate => {
    let left = parseAnd();
    while (keyword("or")) {
      next();
      const l = left, r = parseAnd();
      left = (a) => l(a) || r(a);
    }
    return left;
  };
  const parseAnd = (): ActionPredicate => {
    let left = parsePrimary();
    while (keyword("and")) {
      next();
      const l = left, r = parsePrimary();
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
    return operator === "eq" ? (a) => String(a[field] ?? "").toLowerCase() === value : (a) => String(a[field] ?? "").toLowerCase() !== value;
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
      case "eq": return v === bound;
      case "ne": return v !== bound;
      case "gt": return v > bound;
      case "ge": return v >= bound;
      case "lt": return v < bound;
      default: return v <= bound;
    }
  };
}
