/**
 * One run of the alerts_v2 poller: which alerts to read, and how far the cursor may move.
 *
 * Windows, not a bare cursor. Each window is a half-open range of lastUpdateDateTime,
 * `$filter=lastUpdateDateTime ge <windowStart> and lastUpdateDateTime lt <windowEnd>`, and the
 * window's end is written into the cursor before anything is handled, so it stays fixed until the
 * window is done, across runs and restarts:
 * - `ge` at the start and `lt` at the end: an instant belongs to exactly one window, so alerts that
 *   share a timestamp (Graph writes 7 fractional digits; bursts share them) are never split between a
 *   window that skipped them and one that never asks. A bare `gt <last seen>` would miss alerts at
 *   the cursor's instant that were not yet on the page it came from; a bare `ge` would replay them.
 * - Graph returns newest first and offers no `$orderby` on alerts_v2
 *   (https://learn.microsoft.com/graph/api/security-list-alerts_v2), so a window is done only when
 *   all of it was read and every alert handled; then the cursor moves to its end. Until then the
 *   cursor keeps the ids already handled in the window (with the lastUpdateDateTime they were handled
 *   at), so a later run, or a restarted app, skips them without another MDE call and retries only the
 *   rest. An alert updated again has a new lastUpdateDateTime and is looked at again; the per-device
 *   instance id (functions/alertDuplicates.ts) still never starts it twice.
 * - The window ends a settle delay before now: an alert's lastUpdateDateTime is set before the
 *   alert can be listed, and an instant already passed by the cursor is never asked again.
 *
 * Windows that fit one page. Paging through a filtered list with `$skiptoken` may work like an
 * offset: an alert of the window updated while its pages are read gets a lastUpdateDateTime past the
 * window's end and leaves the list, every later alert moves up by one, and the one that moves from the
 * next page onto a page already read is never seen. One page is one answer of Graph, read at one moment,
 * so nothing can move between its parts. Hence, per window:
 * 1. The first page comes with an `@odata.nextLink`: the window holds more than a page. It is cut
 *    (the older part first; the rest becomes the next window) without handling anything, down to
 *    {@link MIN_WINDOW_IN_MS}: to half its length, or shorter when the `@odata.count` of the first
 *    page says a page holds a smaller share of it ({@link splitLength}).
 * 2. It fits one page: its alerts are handled and the window is done.
 * 3. Only a window of {@link MIN_WINDOW_IN_MS} with more than a page of alerts (a burst of updates in
 *    one second) is paged. Such a window is done only after a full re-read found no alert that had not
 *    been handled already: an alert skipped by a shift in one pass is found by the next. (Re-reading
 *    with `$count=true` and comparing counts would not do: an alert arriving late in the window while
 *    another leaves keeps the count and still hides a shift.)
 * After a window is done the next one starts at its end, twice as long (up to the settle delay before
 * now), so a backlog is read in windows of about a page and quiet periods in one request per run.
 */
import { errorMessage } from "../errors";
import type { Logger } from "../log";
import type { AlertsPage, GraphAlertsApi } from "./graphClient";
import { str } from "./normalize";
import { MAX_ALERT_ID_LENGTH, type PollCursor, type PollCursorStore } from "./pollCursor";

/** How long after an alert's lastUpdateDateTime its window is read: listing lags the write. */
export const SETTLE_DELAY_IN_MS = 2 * 60_000;

/** A run stops starting new alerts after this long (the Functions timeout is 5 minutes on Consumption). */
export const RUN_BUDGET_IN_MS = 4 * 60_000;

/** Shortest window: one with more than a page of alerts is paged, with a verifying re-read, instead of halved. */
export const MIN_WINDOW_IN_MS = 1000;

/** What the caller did with one alert: `handled` (started, duplicate, skipped or dropped for good) or `retry`. */
export type PolledAlertResult = "handled" | "retry";

export interface PollRunDeps {
  graph: GraphAlertsApi;
  cursor: PollCursorStore;
  /** Handles one alert as Graph listed it; never throws for an expected outcome. */
  handle: (alert: Record<string, unknown>) => Promise<PolledAlertResult>;
  now: () => Date;
  /** `maxPages`: Graph requests one run makes at most (ALERTS_POLL_MAX_PAGES). */
  settings: { lookbackInMs: number; pageSize: number; maxPages: number };
  log: Logger;
  /** Monotonic milliseconds for the run budget. @default performance.now */
  clock?: () => number;
  /** @default RUN_BUDGET_IN_MS */
  budgetInMs?: number;
}

/**
 * How a run ended, for its log line and the tests. `idle`: no window to read yet; `windowDone`: every
 * window read and the cursor caught up; `windowOpen`: a window is left for the next run (out of
 * requests or time, or an alert to retry); `conflict`: another run holds the cursor; `graphFailed`;
 * `cursorCorrupt`: the cursor blob is not a cursor (nothing read, nothing moved).
 */
export interface PollRunSummary {
  outcome: "idle" | "windowDone" | "windowOpen" | "conflict" | "graphFailed" | "cursorCorrupt";
  /** The last window the run worked on. */
  windowStart?: string;
  windowEnd?: string;
  /** Graph requests (pages) made. */
  pages: number;
  /** Windows read to the end and passed by the cursor. */
  windowsDone: number;
  /** Windows halved because they held more than a page. */
  splits: number;
  /** Re-reads of a paged window (step 3 of the module comment). */
  rereads: number;
  listed: number;
  handledNow: number;
  skipped: number;
  retryLater: number;
}

/** Reads windows until the cursor is caught up or the run's requests or time are spent. */
export async function pollAlertsOnce(deps: PollRunDeps): Promise<PollRunSummary> {
  const clock = deps.clock ?? (() => performance.now());
  const startedAt = clock();
  const outOfTime = () => clock() - startedAt > (deps.budgetInMs ?? RUN_BUDGET_IN_MS);
  const summary: PollRunSummary = {
    outcome: "idle",
    pages: 0,
    windowsDone: 0,
    splits: 0,
    rereads: 0,
    listed: 0,
    handledNow: 0,
    skipped: 0,
    retryLater: 0,
  };
  const stored = await deps.cursor.read();
  if (!stored.ok) {
    deps.log.error("alerts_v2 cursor unreadable", { reason: stored.code, detail: stored.detail });
    return { ...summary, outcome: "cursorCorrupt" };
  }
  let etag = stored.etag;
  const latestEnd = deps.now().getTime() - SETTLE_DELAY_IN_MS;
  let cursor: PollCursor = stored.cursor ?? { version: 1, windowStart: iso(latestEnd - deps.settings.lookbackInMs), handled: {} };
  const save = async (next: PollCursor): Promise<boolean> => {
    const written = await deps.cursor.write(next, etag);
    if (!written.ok) return false;
    etag = written.etag;
    cursor = next;
    return true;
  };
  if (cursor.windowEnd === undefined) {
    const end = nextWindowEnd(cursor.windowStart, latestEnd);
    if (end === undefined) return summary;
    cursor = { version: 1, windowStart: cursor.windowStart, windowEnd: end, handled: {} };
  }
  // The window's end is durable before anything is handled (a restart reads the same window), and this
  // first conditional write is the run's claim: of two overlapping runs, the second stops here.
  if (!(await save(cursor))) return { ...summary, outcome: "conflict" };

  try {
    for (;;) {
      const window = { start: cursor.windowStart, end: cursor.windowEnd! };
      Object.assign(summary, { windowStart: window.start, windowEnd: window.end });
      if (summary.pages >= deps.settings.maxPages || outOfTime()) return { ...summary, outcome: "windowOpen" };
      const first = await deps.graph.firstAlertsPage(windowFilter(window.start, window.end), deps.settings.pageSize);
      summary.pages++;
      const lengthMs = Date.parse(window.end) - Date.parse(window.start);
      if (first.nextLink !== undefined && lengthMs >= 2 * MIN_WINDOW_IN_MS) {
        const shorter = splitLength(lengthMs, deps.settings.pageSize, first.count);
        if (!(await save({ ...cursor, windowEnd: iso(Date.parse(window.start) + shorter) }))) return { ...summary, outcome: "conflict" };
        summary.splits++;
        continue;
      }
      const pass = await readPass(deps, first, cursor, save, summary, outOfTime);
      if (pass === "conflict") return { ...summary, outcome: "conflict" };
      if (!pass.complete || pass.retries > 0) return { ...summary, outcome: "windowOpen" };
      if (pass.pages > 1 && pass.newlyHandled > 0) {
        // Paged: done only after a pass that found nothing new (module comment, step 3).
        summary.rereads++;
        continue;
      }
      summary.windowsDone++;
      const end = nextWindowEnd(window.end, latestEnd, lengthMs);
      if (!(await save({ version: 1, windowStart: window.end, ...(end === undefined ? {} : { windowEnd: end }), handled: {} })))
        return { ...summary, outcome: "conflict" };
      if (end === undefined) return { ...summary, outcome: "windowDone" };
    }
  } catch (e) {
    // Throttled past the wait cap, or Graph failing: what was handled is saved, the window stays.
    deps.log.warn("alerts_v2 poll stopped", { reason: "SourceUnavailable", detail: errorMessage(e), pages: summary.pages });
    return { ...summary, outcome: "graphFailed" };
  }
}

/** One read of a window from its first page on: handles what is new, saves the handled ids after each page. */
async function readPass(
  deps: PollRunDeps,
  firstPage: AlertsPage,
  cursor: PollCursor,
  save: (next: PollCursor) => Promise<boolean>,
  summary: PollRunSummary,
  outOfTime: () => boolean,
): Promise<{ complete: boolean; pages: number; newlyHandled: number; retries: number } | "conflict"> {
  const pass = { complete: false, pages: 1, newlyHandled: 0, retries: 0 };
  let page = firstPage;
  let handled = { ...cursor.handled };
  for (;;) {
    summary.listed += page.alerts.length;
    for (const alert of page.alerts) {
      const id = str(alert.id);
      const lastUpdate = str(alert.lastUpdateDateTime) ?? "";
      if (id === undefined || id.length > MAX_ALERT_ID_LENGTH) {
        deps.log.warn("polled alert skipped", { reason: "MalformedEvent", detail: "an alerts_v2 entry without a usable id" });
        continue;
      }
      if (handled[id] === lastUpdate) {
        summary.skipped++;
        continue;
      }
      if (outOfTime() || (await deps.handle(alert)) !== "handled") {
        summary.retryLater++;
        pass.retries++;
        continue;
      }
      // Re-inserted at the end: the cursor's bound (pollCursor.ts) drops the oldest first.
      delete handled[id];
      handled[id] = lastUpdate;
      summary.handledNow++;
      pass.newlyHandled++;
    }
    if (!(await save({ ...cursor, handled }))) return "conflict";
    handled = { ...handled };
    if (page.nextLink === undefined) return { ...pass, complete: true };
    if (summary.pages >= deps.settings.maxPages || outOfTime()) return pass;
    page = await deps.graph.nextAlertsPage(page.nextLink);
    summary.pages++;
    pass.pages++;
  }
}

/**
 * The length a window of `lengthMs` holding more than a page is cut to: half, or the share one page
 * holds of `count` alerts (with a margin: alerts are rarely spread evenly) when that is shorter; never
 * under {@link MIN_WINDOW_IN_MS}. Pure.
 */
export function splitLength(lengthMs: number, pageSize: number, count: number | undefined): number {
  const half = Math.floor(lengthMs / 2);
  const share = count !== undefined && count > pageSize ? Math.floor(((lengthMs * pageSize) / count) * 0.8) : half;
  return Math.max(MIN_WINDOW_IN_MS, Math.min(half, share));
}

/**
 * The end of the window starting at `start`: the settle delay before now, or sooner when the previous
 * window was short (twice its length); undefined when there is nothing to read yet.
 */
function nextWindowEnd(start: string, latestEndMs: number, previousLengthMs?: number): string | undefined {
  const startMs = Date.parse(start);
  const end = previousLengthMs === undefined ? latestEndMs : Math.min(latestEndMs, startMs + 2 * previousLengthMs);
  return end > startMs ? iso(end) : undefined;
}

/** The `$filter` of a window: lastUpdateDateTime in `[start, end)`, as OData DateTimeOffset literals. */
export function windowFilter(start: string, end: string): string {
  return `lastUpdateDateTime ge ${start} and lastUpdateDateTime lt ${end}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
