/**
 * Alert rules (`ALERT_RULES`): which alerts start a collection, with which playbook. The first
 * rule that matches wins; an alert no rule matches is logged and ignored. Every condition given
 * must hold; an absent condition matches anything.
 */
import type { SettingProblem } from "../errors";
import type { ConfigEntry } from "../configFiles/entries";
import { parseSettingArray, readEntries, type PlaybookCatalog } from "../playbooks";
import { validateParameterValues } from "../validation";
import { checkPlaybookUse } from "../playbookUse";
import { SEVERITIES, type AlertSource, type NormalizedAlert, type Severity } from "./normalize";

export type TitlePattern = { regex: RegExp } | { substring: string };

export interface AlertRule {
  name: string;
  playbook: string;
  /** Values of the playbook's `{{params.*}}` placeholders. */
  parameters: Record<string, string>;
  /** The alert's severity must be at least this (informational < low < medium < high). */
  minSeverity?: Severity;
  /** Case-insensitive; values differ by source (Graph and MDE: "DefenseEvasion", "Execution", ...). */
  categories?: string[];
  /** Any one must match the title: "/regex/flags" or a case-insensitive substring. */
  titlePatterns?: TitlePattern[];
  /** Case-insensitive; Graph says "antivirus", MDE "WindowsDefenderAv". */
  detectionSources?: string[];
  sources?: AlertSource[];
  /** Any one must be among a Sentinel row's `Tactics` (case-insensitive); an alert without tactics never matches. */
  tactics?: string[];
  /** Case-insensitive; a Sentinel row's `AlertType` (e.g. "WindowsDefenderAtp"). */
  alertTypes?: string[];
  /** Case-insensitive; a Sentinel row's `ProviderName` (e.g. "MDATP"). */
  providerNames?: string[];
}

const FIELDS = new Set([
  "name",
  "playbook",
  "parameters",
  "minSeverity",
  "categories",
  "titlePatterns",
  "detectionSources",
  "sources",
  "tactics",
  "alertTypes",
  "providerNames",
]);
const CONDITIONS = "minSeverity?, categories?, titlePatterns?, detectionSources?, sources?, tactics?, alertTypes?, providerNames?";
const SOURCES: readonly AlertSource[] = ["graph", "mde", "sentinel", "streaming"];
const REGEX_FORM = /^\/(.+)\/([a-z]*)$/s;

/**
 * Parses and validates `ALERT_RULES`: a JSON array of rules (see {@link readAlertRules}).
 */
export function parseAlertRules(
  raw: string | undefined,
  playbooks: PlaybookCatalog,
  setting = "ALERT_RULES",
): { rules: AlertRule[]; problems: SettingProblem[] } {
  const { entries, problems } = parseSettingArray(raw, setting);
  const read = readAlertRules(entries, playbooks);
  return { rules: read.rules, problems: [...problems, ...read.problems] };
}

/**
 * Validates rules from the setting or from files (shared/configFiles), in order: regexes compile,
 * playbooks exist and need only what an alert provides. Problems name the entry, e.g.
 * `ALERT_RULES[1].titlePatterns[0]` or `config/alert-rules/ransomware.json: titlePatterns[0]`.
 */
export function readAlertRules(
  entries: readonly ConfigEntry[],
  playbooks: PlaybookCatalog,
): { rules: AlertRule[]; problems: SettingProblem[] } {
  const shape = `{ name, playbook, parameters?, and conditions: ${CONDITIONS} }`;
  const { values: rules, problems } = readEntries<AlertRule>(entries, FIELDS, shape, (entry, at, add) => {
    const name = typeof entry.name === "string" && entry.name.trim() ? entry.name.trim() : undefined;
    if (!name) add(`${at}.name`, "required: a name for logs");
    const parameters = validateParameterValues(entry.parameters, `${at}.parameters`, add);
    checkPlaybookUse(entry.playbook, parameters, playbooks, "alert", at, add);
    let minSeverity: Severity | undefined;
    if (entry.minSeverity !== undefined) {
      if (typeof entry.minSeverity === "string" && (SEVERITIES as readonly string[]).includes(entry.minSeverity.toLowerCase()))
        minSeverity = entry.minSeverity.toLowerCase() as Severity;
      else add(`${at}.minSeverity`, `must be one of ${SEVERITIES.join(", ")}`);
    }
    const categories = stringList(entry.categories, `${at}.categories`, add);
    const detectionSources = stringList(entry.detectionSources, `${at}.detectionSources`, add);
    const sources = stringList(entry.sources, `${at}.sources`, add)?.map((s) => s.toLowerCase());
    sources?.forEach(
      (s, j) => !(SOURCES as readonly string[]).includes(s) && add(`${at}.sources[${j}]`, `must be one of ${SOURCES.join(", ")}`),
    );
    const titlePatterns = stringList(entry.titlePatterns, `${at}.titlePatterns`, add)?.map((p, j) =>
      titlePattern(p, `${at}.titlePatterns[${j}]`, add),
    );
    const tactics = stringList(entry.tactics, `${at}.tactics`, add);
    const alertTypes = stringList(entry.alertTypes, `${at}.alertTypes`, add);
    const providerNames = stringList(entry.providerNames, `${at}.providerNames`, add);
    return {
      name: name!,
      playbook: entry.playbook as string,
      parameters,
      ...(minSeverity ? { minSeverity } : {}),
      ...(categories ? { categories } : {}),
      ...(titlePatterns ? { titlePatterns: titlePatterns as TitlePattern[] } : {}),
      ...(detectionSources ? { detectionSources } : {}),
      ...(sources ? { sources: sources as AlertSource[] } : {}),
      ...(tactics ? { tactics } : {}),
      ...(alertTypes ? { alertTypes } : {}),
      ...(providerNames ? { providerNames } : {}),
    };
  });
  return { rules, problems };
}

function stringList(value: unknown, at: string, add: (at: string, problem: string) => void): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && v.trim() !== "")) {
    add(at, "must be a non-empty array of non-empty strings");
    return undefined;
  }
  return value as string[];
}

function titlePattern(text: string, at: string, add: (at: string, problem: string) => void): TitlePattern | undefined {
  const m = REGEX_FORM.exec(text);
  if (!m) return { substring: text.toLowerCase() };
  // g and y make test() stateful: the same title would match on one call and not the next.
  if (/[gy]/.test(m[2]!)) {
    add(at, "the g and y flags are not allowed (they make matching depend on earlier alerts)");
    return undefined;
  }
  try {
    return { regex: new RegExp(m[1]!, m[2]) };
  } catch (e) {
    add(at, `is not a valid regular expression: ${(e as Error).message}`);
    return undefined;
  }
}

const includesIgnoreCase = (list: string[], value: string | undefined) =>
  value !== undefined && list.some((x) => x.toLowerCase() === value.toLowerCase());

/** Whether every condition of `rule` holds for `alert`. */
export function ruleMatches(rule: AlertRule, alert: NormalizedAlert): boolean {
  if (rule.sources && !rule.sources.includes(alert.source)) return false;
  if (rule.minSeverity && (!alert.severity || SEVERITIES.indexOf(alert.severity) < SEVERITIES.indexOf(rule.minSeverity))) return false;
  if (rule.categories && !includesIgnoreCase(rule.categories, alert.category)) return false;
  if (rule.detectionSources && !includesIgnoreCase(rule.detectionSources, alert.detectionSource)) return false;
  if (rule.tactics && !(alert.tactics ?? []).some((t) => includesIgnoreCase(rule.tactics!, t))) return false;
  if (rule.alertTypes && !includesIgnoreCase(rule.alertTypes, alert.alertType)) return false;
  if (rule.providerNames && !includesIgnoreCase(rule.providerNames, alert.providerName)) return false;
  if (rule.titlePatterns) {
    const title = alert.title ?? "";
    if (!rule.titlePatterns.some((p) => ("regex" in p ? p.regex.test(title) : title.toLowerCase().includes(p.substring)))) return false;
  }
  return true;
}

/** The first rule that matches, or undefined. */
export function matchRule(rules: readonly AlertRule[], alert: NormalizedAlert): AlertRule | undefined {
  return rules.find((r) => ruleMatches(r, alert));
}
