import type { CollectionPolicy } from "../shared/contract";

/** Once the device runs the commands, results come within minutes: poll at least this often. */
const IN_PROGRESS_MAX_DELAY_IN_MS = 60_000;
/** A timer never fires sooner than this, so a misconfigured policy cannot spin. */
const MIN_DELAY_IN_MS = 1_000;

/**
 * How long to wait before the next status check. Pure.
 * Backoff doubles from the initial delay for each poll that saw the same status: a device that comes
 * online is noticed quickly, and one offline for three days costs a few hundred polls, not thousands.
 * While the action is InProgress the cap is lower because results are imminent.
 */
export function nextPollDelayInMs(policy: CollectionPolicy, actionStatus: string, pollsInStatus: number): number {
  const cap = actionStatus === "InProgress" ? Math.min(policy.pollMaxDelayInMs, Math.max(IN_PROGRESS_MAX_DELAY_IN_MS, policy.pollInitialDelayInMs)) : policy.pollMaxDelayInMs;
  const exponent = Math.min(pollsInStatus, 30);
  return Math.max(MIN_DELAY_IN_MS, Math.min(cap, policy.pollInitialDelayInMs * 2 ** exponent));
}

/** Never sleep past the deadline: the last check happens at the deadline itself. */
export function clampToDeadline(delayInMs: number, now: Date, deadline: Date): number {
  return Math.max(MIN_DELAY_IN_MS, Math.min(delayInMs, deadline.getTime() - now.getTime()));
}
