/**
 * Collection plans (`COLLECTION_PLANS`): what the `scheduledCollection` timer runs. Each plan
 * names a playbook and its machines, either listed (`machineIds`) or selected at run time through
 * `GET /api/machines?$filter=...&$top=...` (e.g. `machineTags/any(tag: tag eq 'tier0')`).
 */
import { createHash } from "node:crypto";
import type { SettingProblem } from "./errors";
import { MAX_LIST_TOP } from "./mde/limits";
import { MACHINE_ID_PATTERN } from "./mde/models";
import { checkPlaybookUse } from "./playbookUse";
import type { ConfigEntry } from "./configFiles/entries";
import { parseSettingArray, readEntries, type PlaybookCatalog } from "./playbooks";
import { hasUnsafeCharacters } from "./unsafeCharacters";
import { PLAYBOOK_NAME_PATTERN, validateParameterValues } from "./validation";

export type MachineSelector = { machineIds: string[] } | { filter: string; top: number };

export interface CollectionPlan {
  name: string;
  playbook: string;
  /** Values of the playbook's `{{params.*}}` placeholders. */
  parameters: Record<string, string>;
  machines: MachineSelector;
}

/** How the timer runs the plans; copied from settings at startup. */
export interface CollectionPlanSettings {
  /** Six-field NCRONTAB, UTC. @default "0 0 2 * * *" (02:00 every day) */
  schedule: string;
  /**
   * Collections one run starts at most, over all plans; the rest are logged as skipped.
   * @default 25 (MDE's concurrent live response sessions: https://learn.microsoft.com/defender-endpoint/api/run-live-response)
   */
  maxMachinesPerRun: number;
  /**
   * Collections whose first submission a run schedules per minute.
   * @default 5 (half of MDE's 10 runliveresponse calls per minute, leaving room for webhook and alert collections)
   */
  submissionsPerMinute: number;
  plans: CollectionPlan[];
}

/** `$top` when a plan's filter gives none. */
export const DEFAULT_PLAN_TOP = 100;
const FIELDS = new Set(["name", "playbook", "parameters", "machineIds", "filter", "top"]);

/**
 * Parses and validates `COLLECTION_PLANS`: a JSON array of plans (see {@link readCollectionPlans}).
 */
export function parseCollectionPlans(
  raw: string | undefined,
  playbooks: PlaybookCatalog,
  setting = "COLLECTION_PLANS",
): { plans: CollectionPlan[]; problems: SettingProblem[] } {
  const { entries, problems } = parseSettingArray(raw, setting);
  const read = readCollectionPlans(entries, playbooks);
  return { plans: read.plans, problems: [...problems, ...read.problems] };
}

/**
 * Validates plans from the setting or from files (shared/configFiles):
 * `{ name, playbook, parameters?, machineIds? | filter? (+ top?) }`. Problems name the entry,
 * e.g. `COLLECTION_PLANS[0].machineIds[2]` or `config/plans/nightly.json: machineIds[2]`.
 */
export function readCollectionPlans(
  entries: readonly ConfigEntry[],
  playbooks: PlaybookCatalog,
): { plans: CollectionPlan[]; problems: SettingProblem[] } {
  const shape = "{ name, playbook, parameters?, machineIds? | filter?, top? }";
  const { values: plans, problems } = readEntries<CollectionPlan>(entries, FIELDS, shape, (entry, at, add, earlier) => {
    const name = entry.name;
    if (typeof name !== "string" || !PLAYBOOK_NAME_PATTERN.test(name)) add(`${at}.name`, "required: 1-64 letters, digits, '.', '_', '-'");
    else if (earlier.some((p) => p.name === name)) add(`${at}.name`, `"${name}" is defined twice`);
    const parameters = validateParameterValues(entry.parameters, `${at}.parameters`, add);
    checkPlaybookUse(entry.playbook, parameters, playbooks, "schedule", at, add);
    const machines = machineSelector(entry, at, add);
    if (machines && "machineIds" in machines && playbooks.get(entry.playbook as string)?.placeholders.includes("machine.computerDnsName")) {
      add(`${at}.playbook`, "uses {{machine.computerDnsName}}, which only a plan with a filter can fill (machineIds gives ids only)");
    }
    return machines && { name: name as string, playbook: entry.playbook as string, parameters, machines };
  });
  return { plans, problems };
}

function machineSelector(
  entry: Record<string, unknown>,
  at: string,
  add: (at: string, problem: string) => void,
): MachineSelector | undefined {
  const { machineIds, filter, top } = entry;
  if ((machineIds === undefined) === (filter === undefined)) {
    add(at, "give exactly one of machineIds (a list of MDE machine ids) or filter (an OData $filter on /api/machines)");
    return undefined;
  }
  if (machineIds !== undefined) {
    if (top !== undefined) add(`${at}.top`, "only applies to a filter");
    if (!Array.isArray(machineIds) || machineIds.length === 0) {
      add(`${at}.machineIds`, "must be a non-empty array of MDE machine ids");
      return undefined;
    }
    machineIds.forEach(
      (id, j) =>
        (typeof id !== "string" || !MACHINE_ID_PATTERN.test(id)) &&
        add(`${at}.machineIds[${j}]`, "must be an MDE machine id: 40 hexadecimal characters"),
    );
    return { machineIds: [...new Set((machineIds as string[]).map((id) => String(id).toLowerCase()))] };
  }
  if (typeof filter !== "string" || filter.trim() === "" || filter.length > 2000 || hasUnsafeCharacters(filter)) {
    add(
      `${at}.filter`,
      "must be an OData $filter for GET /api/machines, e.g. \"healthStatus eq 'Active' and machineTags/any(tag: tag eq 'tier0')\"",
    );
    return undefined;
  }
  if ((filter.match(/'/g)?.length ?? 0) % 2 !== 0) add(`${at}.filter`, "has an unterminated 'string literal'");
  if (top !== undefined && !(Number.isInteger(top) && (top as number) >= 1 && (top as number) <= MAX_LIST_TOP))
    add(`${at}.top`, `must be a whole number from 1 to ${MAX_LIST_TOP}`);
  return { filter: filter.trim(), top: (top as number | undefined) ?? DEFAULT_PLAN_TOP };
}

/**
 * One plan, one machine, one schedule occurrence: one instance id. A duplicate timer firing for
 * the same occurrence computes the same ids and so starts nothing twice.
 */
export function planInstanceId(plan: string, machineId: string, scheduledFor: string): string {
  return `plan-${createHash("sha256").update(`${plan}\n${machineId.toLowerCase()}\n${scheduledFor}`, "utf8").digest("hex").slice(0, 40)}`;
}

/** When the collection in submission slot `slot` (0-based) may first submit: `perMinute` per minute from `now`. */
export function staggeredStart(slot: number, perMinute: number, now: Date): Date {
  return new Date(now.getTime() + Math.floor(slot / perMinute) * 60_000);
}
