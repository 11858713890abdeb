/** Builds the timing an orchestration follows from the settings, when its trigger starts it. */
import type { CollectionSettings } from "./config";
import type { CollectionPolicy } from "./contract";

/**
 * The deadline covers MDE's queue window, the commands' own time limit and a margin, counted from
 * `startAfter` when the collection waits before its first submission.
 */
export function buildCollectionPolicy(settings: CollectionSettings, now: Date, startAfter?: Date): CollectionPolicy {
  const start = startAfter && startAfter > now ? startAfter : now;
  const actionWindowInMs = settings.queueWindowInMs + settings.commandTimeoutInMs + settings.deadlineMarginInMs;
  return {
    ...(start !== now ? { startAfter: start.toISOString() } : {}),
    deadline: new Date(start.getTime() + actionWindowInMs).toISOString(),
    actionWindowInMs,
    pollInitialDelayInMs: settings.pollInitialDelayInMs,
    pollMaxDelayInMs: settings.pollMaxDelayInMs,
    busyRetryDelayInMs: settings.busyRetryDelayInMs,
    throttleDelayInMs: 60_000,
  };
}
