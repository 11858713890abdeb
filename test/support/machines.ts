/**
 * Machines and durations for tests: one home for the simulator's tests and the collector harness.
 */
import { randomUUID } from "node:crypto";
import type { MachineScenario } from "../../simulator";

/** One second, in milliseconds. */
export const SECOND = 1000;
/** One minute, in milliseconds. */
export const MINUTE = 60 * SECOND;
/** One hour, in milliseconds. */
export const HOUR = 60 * MINUTE;
/** One day, in milliseconds. */
export const DAY = 24 * HOUR;

/** A machine id (40 lowercase hex, as MDE's) unique to this run. */
export function newMachineId(): string {
  return (randomUUID() + randomUUID()).replace(/-/g, "").slice(0, 40);
}

/** A simulated machine with a fresh id and host name, online at once unless `overrides` say otherwise. */
export function machine(overrides: Partial<MachineScenario> = {}): MachineScenario {
  return { machineId: newMachineId(), computerDnsName: `host-${randomUUID().slice(0, 6)}`, onlineAfterMs: 0, ...overrides };
}
