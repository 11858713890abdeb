/** A governor over the in-memory store, with MDE's default limits, no real sleeping and a seeded random. */
import { seededRandom } from "../../../../simulator/faults";
import { Governor, type GovernorOptions } from "../../../../shared/governor/governor";
import { governorLimits, type GovernorLimits } from "../../../../shared/governor/governorLimits";
import type { GovernorSettings } from "../../../../shared/governor/governorSettings";
import { MemoryGovernorStore, type GovernorStore } from "../../../../shared/governor/governorStore";
import type { GovernorDocument } from "../../../../shared/governor/governorDocument";

export const DEFAULT_SETTINGS: GovernorSettings = {
  maxSessions: 25,
  submissionsPerMinute: 10,
  readsPerMinute: 100,
  readsPerHour: 1500,
  sessionLeaseMs: 20 * 60_000,
  headroomPercent: 10,
  enabled: true,
};

export const T0 = Date.parse("2025-01-01T00:00:00Z");
export const SECOND = 1_000;
export const MINUTE = 60_000;

/** The simulator's deterministic generator (mulberry32), so jitter and simulated durations repeat run after run. */
export { seededRandom };

export function testGovernor(
  options: { settings?: Partial<GovernorSettings>; limits?: Partial<GovernorLimits>; store?: GovernorStore } & GovernorOptions = {},
) {
  const { settings, limits, store = new MemoryGovernorStore(), ...governorOptions } = options;
  const governor = new Governor(store, governorLimits({ ...DEFAULT_SETTINGS, ...settings }, limits), {
    sleep: async () => {},
    random: seededRandom(7),
    ...governorOptions,
  });
  return { governor, store };
}

/** The stored document (the in-memory store only). */
export function storedDocument(store: GovernorStore): GovernorDocument {
  return (store as MemoryGovernorStore).stored as GovernorDocument;
}
