/**
 * The inventory side of a simulated device: what `GET /api/machines` reports and filters on
 * (https://learn.microsoft.com/defender-endpoint/api/get-machines, https://learn.microsoft.com/defender-endpoint/api/machine).
 * Kept apart from the live response behaviour in scenarios.ts.
 */
import { badRequest } from "./errors";
import { parseMachineFilter } from "./odataFilter";

export interface MachineInventoryFields {
  /** @default "Windows10" */
  osPlatform?: string;
  /** Active, Inactive, ImpairedCommunication, NoSensorData, NoSensorDataImpairedCommunication, Unknown. @default "Active" */
  healthStatus?: string;
  /** @default [] */
  machineTags?: string[];
}

export interface ResolvedMachineInventoryFields {
  osPlatform: string;
  healthStatus: string;
  machineTags: string[];
}

const HEALTH = ["Active", "Inactive", "ImpairedCommunication", "NoSensorData", "NoSensorDataImpairedCommunication", "Unknown"];

/** Validates the inventory fields of a scenario (problems appended) and applies defaults. */
export function resolveMachineInventoryFields(s: Record<string, unknown>, problems: string[]): ResolvedMachineInventoryFields {
  if (s.osPlatform !== undefined && (typeof s.osPlatform !== "string" || s.osPlatform === ""))
    problems.push("osPlatform must be a non-empty string");
  if (s.healthStatus !== undefined && !HEALTH.includes(s.healthStatus as string))
    problems.push(`healthStatus must be one of ${HEALTH.join(", ")}`);
  if (s.machineTags !== undefined && !(Array.isArray(s.machineTags) && s.machineTags.every((t) => typeof t === "string")))
    problems.push("machineTags must be an array of strings");
  return {
    osPlatform: (s.osPlatform as string | undefined) ?? "Windows10",
    healthStatus: (s.healthStatus as string | undefined) ?? "Active",
    machineTags: Array.isArray(s.machineTags) ? [...(s.machineTags as string[])] : [],
  };
}

/** A device as the Machine entity (the fields the collector reads, plus a few MDE always sends). */
export function toWireMachine(
  m: { machineId: string; computerDnsName: string } & ResolvedMachineInventoryFields,
  lastSeen: Date,
): Record<string, unknown> {
  return {
    id: m.machineId,
    computerDnsName: m.computerDnsName,
    firstSeen: lastSeen.toISOString(),
    lastSeen: lastSeen.toISOString(),
    osPlatform: m.osPlatform,
    healthStatus: m.healthStatus,
    onboardingStatus: "Onboarded",
    riskScore: "None",
    exposureLevel: "Low",
    rbacGroupId: 0,
    aadDeviceId: null,
    machineTags: [...m.machineTags],
  };
}

/** `$top` accepts up to 10,000 (https://learn.microsoft.com/defender-endpoint/api/get-machines). */
const MAX_TOP = 10_000;

/** Answers `GET /api/machines?$filter=...&$top=...` over wire machines. @throws SimulatorHttpError 400 InvalidInput */
export function listMachinesBody(
  machines: Record<string, unknown>[],
  query: URLSearchParams,
  serviceRoot: string,
): Record<string, unknown> {
  for (const key of query.keys())
    if (!["$filter", "$top", "$skip"].includes(key)) throw badRequest("InvalidInput", `Query option '${key}' is not supported`);
  const filter = query.get("$filter");
  const predicate = filter === null ? () => true : parseMachineFilter(filter);
  const option = (name: string, max: number, fallback: number): number => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) > max) throw badRequest("InvalidInput", `${name} must be an integer between 0 and ${max}`);
    return Number(raw);
  };
  const top = option("$top", MAX_TOP, MAX_TOP);
  const skip = option("$skip", Number.MAX_SAFE_INTEGER, 0);
  return { "@odata.context": `${serviceRoot}/$metadata#Machines`, value: machines.filter(predicate).slice(skip, skip + top) };
}
