import { createHash } from "node:crypto";
import type { AlertClaim } from "../shared/alerts/claim";
import type { DurableAccess } from "./durableAccess";

/** One alert, one device, one collection: Event Grid's at-least-once redelivery maps to the same id. */
export function alertInstanceId(alertId: string, machineId: string): string {
  return `alert-${createHash("sha256").update(`${alertId}\n${machineId.toLowerCase()}`, "utf8").digest("hex").slice(0, 40)}`;
}

/** How many alerts {@link RecentAlertDevices} keeps; the oldest is forgotten first. */
export const RECENT_ALERTS_KEPT = 1000;

/**
 * The devices this worker started collections on, per MDE alert id: the duplicate check's hint
 * for an event that names no device itself (a Graph change notification).
 */
export class RecentAlertDevices {
  private readonly byAlert = new Map<string, string[]>();

  constructor(private readonly kept = RECENT_ALERTS_KEPT) {}

  remember(alertId: string, machineIds: readonly string[]): void {
    if (machineIds.length === 0) return;
    const key = alertId.toLowerCase();
    const known = this.byAlert.get(key) ?? [];
    this.byAlert.delete(key);
    this.byAlert.set(key, [...new Set([...known, ...machineIds])]);
    while (this.byAlert.size > this.kept) this.byAlert.delete(this.byAlert.keys().next().value!);
  }

  devicesOf(alertId: string): readonly string[] {
    return this.byAlert.get(alertId.toLowerCase()) ?? [];
  }
}

/** An instance this alert already started, or why the check could not tell. */
export type DuplicateCheck = { found: true; instanceId: string; machineId: string } | { found: false; lookups: number; failure?: unknown };

/**
 * The duplicate check that runs BEFORE the MDE fetch, so a redelivered event costs no MDE call.
 *
 * Collections are keyed by MDE alert id and device ({@link alertInstanceId}), and only MDE's answer
 * says which device the alert is on, so before the fetch the check can only look where a device is
 * already suspected: the devices the event itself names, then the devices this worker has started
 * collections on for the alert. Durable is asked about each (at most `maxLookups`), and only an
 * existing instance counts: a remembered instance that was purged since is no duplicate.
 *
 * A forged hint cannot start anything: it can only point the check at an instance that does not
 * exist (the fetch follows) or at one already collecting for this very alert (the event is a
 * duplicate indeed). What the check cannot see (a Graph notification, which names no device,
 * redelivered to another worker) costs one MDE call, after which the per-device start still never
 * starts a collection twice.
 */
export async function findExistingCollection(
  durable: DurableAccess,
  claim: AlertClaim,
  recent: RecentAlertDevices,
  maxLookups: number,
): Promise<DuplicateCheck> {
  const hints = [...new Set([...claim.claimedDevices, ...recent.devicesOf(claim.mdeAlertId)])].slice(0, maxLookups);
  let lookups = 0;
  for (const machineId of hints) {
    const instanceId = alertInstanceId(claim.mdeAlertId, machineId);
    lookups++;
    try {
      if (await durable.findStatus(instanceId)) return { found: true, instanceId, machineId };
    } catch (failure) {
      // The check is an optimization: unsure, fetch, and let the per-device start dedupe.
      return { found: false, lookups, failure };
    }
  }
  return { found: false, lookups };
}
