/**
 * One poller run against a fake Graph that pages by offset over a list that can change between pages
 * (as a `$skiptoken` may: https://learn.microsoft.com/graph/paging), and an in-memory cursor store
 * with ETags: windows, cuts, re-reads, the cursor race, retries and the run budget.
 */
import type { AlertsPage, GraphAlertsApi } from "../../../../shared/alerts/graphClient";
import {
  MIN_WINDOW_IN_MS,
  pollAlertsOnce,
  SETTLE_DELAY_IN_MS,
  splitLength,
  type PolledAlertResult,
  type PollRunDeps,
} from "../../../../shared/alerts/graphPoll";
import type { CursorRead, CursorWrite, PollCursor, PollCursorStore } from "../../../../shared/alerts/pollCursor";
import { silentLogger } from "../../../../shared/log";
import { isFinalOutcome } from "../../../../functions/alertPolling";

const NOW = new Date("2026-03-02T12:00:00Z");
const LATEST_END = new Date(NOW.getTime() - SETTLE_DELAY_IN_MS).toISOString();

interface FakeAlert {
  id: string;
  lastUpdateDateTime: string;
}

/** Graph over `alerts`: `$filter` on lastUpdateDateTime ge/lt, newest first by id order, offset paging, `$count`. */
class FakeGraph implements GraphAlertsApi {
  requests: { filter?: string; offset: number }[] = [];
  /** Runs before each page is answered (offset 0: a first page). */
  beforePage?: (offset: number) => void;
  /** Throws "Graph is down" for a request at this offset while it returns true. */
  failWhen?: (offset: number) => boolean;
  constructor(
    public alerts: FakeAlert[],
    private readonly withCount = true,
  ) {}
  async firstAlertsPage(filter: string, top: number): Promise<AlertsPage> {
    return this.answer(filter, top, 0);
  }
  async nextAlertsPage(nextLink: string): Promise<AlertsPage> {
    const link = JSON.parse(nextLink) as { filter: string; top: number; offset: number };
    return this.answer(link.filter, link.top, link.offset);
  }
  private answer(filter: string, top: number, offset: number): AlertsPage {
    this.requests.push({ filter, offset });
    if (this.failWhen?.(offset)) throw new Error("Graph is down");
    this.beforePage?.(offset);
    const m = /^lastUpdateDateTime ge (\S+) and lastUpdateDateTime lt (\S+)$/.exec(filter)!;
    const [ge, lt] = [Date.parse(m[1]!), Date.parse(m[2]!)];
    const matching = this.alerts
      .filter((a) => Date.parse(a.lastUpdateDateTime) >= ge && Date.parse(a.lastUpdateDateTime) < lt)
      .sort((a, b) => a.id.localeCompare(b.id));
    const page: AlertsPage = { alerts: matching.slice(offset, offset + top).map((a) => ({ ...a })) };
    if (offset + top < matching.length) page.nextLink = JSON.stringify({ filter, top, offset: offset + top });
    if (offset === 0 && this.withCount) page.count = matching.length;
    return page;
  }
}

/** The blob's semantics: If-None-Match: * on create, If-Match on update, a lost race as a value. */
class MemoryCursor implements PollCursorStore {
  cursor?: PollCursor;
  etag?: string;
  private n = 0;
  writes: PollCursor[] = [];
  async read(): Promise<CursorRead> {
    return { ok: true, cursor: this.cursor && structuredClone(this.cursor), etag: this.etag };
  }
  async write(cursor: PollCursor, etag: string | undefined): Promise<CursorWrite> {
    if (etag !== this.etag) return { ok: false, reason: "Conflict" };
    this.cursor = structuredClone(cursor);
    this.etag = `"${++this.n}"`;
    this.writes.push(this.cursor);
    return { ok: true, etag: this.etag };
  }
}

const at = (iso: string, n: number, prefix = "a"): FakeAlert[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${String(i).padStart(3, "0")}`, lastUpdateDateTime: iso }));

function run(graph: FakeGraph, cursor: PollCursorStore, overrides: Partial<PollRunDeps> = {}) {
  const handled: string[] = [];
  const deps: PollRunDeps = {
    graph,
    cursor,
    handle: async (alert) => {
      handled.push(String(alert.id));
      return "handled";
    },
    now: () => NOW,
    settings: { lookbackInMs: 60 * 60_000, pageSize: 2, maxPages: 100 },
    log: silentLogger,
    ...overrides,
  };
  return { handled, summary: pollAlertsOnce(deps) };
}

describe("pollAlertsOnce: windows", () => {
  it("a first run reads the lookback up to the settle delay before now, in one request when it fits a page", async () => {
    const graph = new FakeGraph([...at("2026-03-02T11:30:00Z", 1), ...at("2026-03-02T11:59:00Z", 1, "late")]);
    const store = new MemoryCursor();
    const { handled, summary } = run(graph, store);
    expect(await summary).toMatchObject({ outcome: "windowDone", pages: 1, windowsDone: 1, splits: 0, handledNow: 1 });
    expect(handled).toEqual(["a000"]);
    expect(graph.requests[0]!.filter).toBe(`lastUpdateDateTime ge 2026-03-02T10:58:00.000Z and lastUpdateDateTime lt ${LATEST_END}`);
    // Caught up: the cursor starts the next window where this one ended, with nothing to remember.
    expect(store.cursor).toEqual({ version: 1, windowStart: LATEST_END, handled: {} });
  });

  it("a window holding more than a page is cut, never paged, and every alert is read exactly once", async () => {
    const alerts = Array.from({ length: 9 }, (_, i) => ({
      id: `b${i}`,
      lastUpdateDateTime: new Date(Date.parse("2026-03-02T11:00:00Z") + i * 5 * 60_000).toISOString(),
    }));
    const graph = new FakeGraph(alerts);
    const { handled, summary } = run(graph, new MemoryCursor());
    const result = await summary;
    expect(result.outcome).toBe("windowDone");
    expect(result.splits).toBeGreaterThan(0);
    expect(result.rereads).toBe(0);
    expect(graph.requests.every((r) => r.offset === 0)).toBe(true);
    expect([...handled].sort()).toEqual(alerts.map((a) => a.id));
  });

  it("cuts to the share of a page the count says (shorter than half), never below the minimum", () => {
    expect(splitLength(60_000, 100, 1000)).toBe(4800);
    expect(splitLength(60_000, 100, 150)).toBe(30_000);
    expect(splitLength(60_000, 100, undefined)).toBe(30_000);
    expect(splitLength(2500, 100, 100_000)).toBe(MIN_WINDOW_IN_MS);
  });

  it("without a count, halving alone still gets there", async () => {
    const graph = new FakeGraph(at("2026-03-02T11:10:00Z", 2).concat(at("2026-03-02T11:40:00Z", 2, "c")), false);
    const { handled, summary } = run(graph, new MemoryCursor());
    expect((await summary).outcome).toBe("windowDone");
    expect(handled.sort()).toEqual(["a000", "a001", "c000", "c001"]);
  });

  it("nothing to read before the settle delay has passed since the last window: idle, no request", async () => {
    const store = new MemoryCursor();
    await store.write({ version: 1, windowStart: LATEST_END, handled: {} }, undefined);
    const graph = new FakeGraph([]);
    expect(await run(graph, store).summary).toMatchObject({ outcome: "idle", pages: 0 });
    expect(graph.requests).toEqual([]);
  });
});

describe("pollAlertsOnce: a paged window (a burst in one instant) and alerts that move while it is read", () => {
  it("an alert updated between pages shifts the later ones; the re-read finds the one skipped, and the window ends after a pass with nothing new", async () => {
    const burst = at("2026-03-02T11:30:00.250Z", 5);
    const graph = new FakeGraph(burst);
    let moved = false;
    graph.beforePage = (offset) => {
      if (offset === 2 && !moved) {
        moved = true;
        // a000, on page one, is edited: its lastUpdateDateTime moves past the window and a002 slides onto page one.
        graph.alerts[0] = { ...graph.alerts[0]!, lastUpdateDateTime: NOW.toISOString() };
      }
    };
    const { handled, summary } = run(graph, new MemoryCursor());
    const result = await summary;
    expect(moved).toBe(true);
    expect([...handled].sort()).toEqual(["a000", "a001", "a002", "a003", "a004"]);
    expect(new Set(handled).size).toBe(5);
    expect(result).toMatchObject({ outcome: "windowDone", rereads: 2 });
  });

  it("a paged window with nothing moving is still read twice: the second pass proves nothing was skipped", async () => {
    const graph = new FakeGraph(at("2026-03-02T11:30:00.250Z", 5));
    const { handled, summary } = run(graph, new MemoryCursor());
    expect(await summary).toMatchObject({ outcome: "windowDone", rereads: 1, skipped: 5, handledNow: 5 });
    expect(handled).toHaveLength(5);
  });
});

describe("pollAlertsOnce: the cursor", () => {
  it("two runs that race: the second one's first write meets the first one's ETag and it stops before handling anything", async () => {
    const store = new MemoryCursor();
    const graph = new FakeGraph(at("2026-03-02T11:30:00Z", 1));
    // Both read the cursor before either writes (two app instances firing on the same schedule).
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const racing: PollCursorStore = {
      read: async () => {
        const value = await store.read();
        if (++reads === 2) release();
        await bothRead;
        return value;
      },
      write: (c, e) => store.write(c, e),
    };
    const a = run(graph, racing);
    const b = run(graph, racing);
    const outcomes = [(await a.summary).outcome, (await b.summary).outcome].sort();
    expect(outcomes).toEqual(["conflict", "windowDone"]);
    expect([...a.handled, ...b.handled]).toEqual(["a000"]);
  });

  it("a restart resumes the open window: alerts already handled there are skipped without being handled again", async () => {
    const store = new MemoryCursor();
    const graph = new FakeGraph(at("2026-03-02T11:30:00.250Z", 5));
    graph.failWhen = (offset) => offset > 0; // the first page of the paged window is handled, then Graph fails
    const first = run(graph, store);
    expect(await first.summary).toMatchObject({ outcome: "graphFailed" });
    const handledBefore = [...first.handled];
    expect(handledBefore.length).toBeGreaterThan(0);
    expect(store.cursor!.windowEnd).toBeDefined();
    expect(Object.keys(store.cursor!.handled).sort()).toEqual([...handledBefore].sort());

    graph.failWhen = undefined;
    const second = run(graph, store);
    expect(await second.summary).toMatchObject({ outcome: "windowDone" });
    expect(second.handled.filter((id) => handledBefore.includes(id))).toEqual([]);
    expect([...handledBefore, ...second.handled].sort()).toEqual(["a000", "a001", "a002", "a003", "a004"]);
  });

  it("a corrupt cursor ends the run with a code and a log line, reads nothing and writes nothing", async () => {
    const graph = new FakeGraph(at("2026-03-02T11:30:00Z", 1));
    const errors: unknown[] = [];
    const corrupt: PollCursorStore = {
      read: async () => ({ ok: false, code: "CursorCorrupt", detail: "the cursor blob x is not JSON" }),
      write: async () => {
        throw new Error("must not write");
      },
    };
    const { summary } = run(graph, corrupt, {
      log: { ...silentLogger, error: (message: string, properties?: unknown) => errors.push({ message, properties }) },
    });
    expect(await summary).toMatchObject({ outcome: "cursorCorrupt", pages: 0 });
    expect(graph.requests).toEqual([]);
    expect(errors).toEqual([{ message: "alerts_v2 cursor unreadable", properties: expect.objectContaining({ reason: "CursorCorrupt" }) }]);
  });
});

describe("pollAlertsOnce: what may pass the cursor", () => {
  const outcomeFor = (reason: Parameters<typeof isFinalOutcome>[0]): PolledAlertResult => (isFinalOutcome(reason) ? "handled" : "retry");

  it.each([
    ["a permanent drop (AlertNotFound)", "windowDone", { kind: "dropped", reason: "AlertNotFound" } as const],
    ["a permanent drop (NotAnMdeAlert)", "windowDone", { kind: "dropped", reason: "NotAnMdeAlert" } as const],
    ["a duplicate", "windowDone", { kind: "duplicate", machineId: "m", instanceId: "i" } as const],
    ["no rule", "windowDone", { kind: "noRule" } as const],
    ["MDE throttled (SourceUnavailable)", "windowOpen", { kind: "dropped", reason: "SourceUnavailable" } as const],
    ["Alert.Read.All missing (AccessDenied)", "windowOpen", { kind: "dropped", reason: "AccessDenied" } as const],
  ])("%s: %s", async (_name, expected, outcome) => {
    const store = new MemoryCursor();
    const graph = new FakeGraph(at("2026-03-02T11:30:00Z", 1));
    const { summary } = run(graph, store, { handle: async () => outcomeFor(outcome) });
    expect((await summary).outcome).toBe(expected);
    if (expected === "windowOpen") {
      // Kept: the same window, the alert not marked handled, so the next run asks MDE again.
      expect(store.cursor).toMatchObject({ windowEnd: LATEST_END, handled: {} });
    } else expect(store.cursor).toEqual({ version: 1, windowStart: LATEST_END, handled: {} });
  });

  it("the next run retries only the alert that asked for it", async () => {
    const store = new MemoryCursor();
    const graph = new FakeGraph(at("2026-03-02T11:30:00Z", 2));
    const first = run(graph, store, { handle: async (a) => (a.id === "a001" ? "retry" : "handled") });
    expect(await first.summary).toMatchObject({ outcome: "windowOpen", handledNow: 1, retryLater: 1 });
    const second = run(graph, store);
    expect(await second.summary).toMatchObject({ outcome: "windowDone", handledNow: 1, skipped: 1 });
    expect(second.handled).toEqual(["a001"]);
  });
});

describe("pollAlertsOnce: the run budget", () => {
  it("after 4 minutes no new alert is started: the rest wait in the open window for the next run", async () => {
    let ms = 0;
    const store = new MemoryCursor();
    const graph = new FakeGraph(at("2026-03-02T11:30:00.250Z", 5));
    const first = run(graph, store, {
      clock: () => ms,
      handle: async (alert) => {
        ms += 90_000; // each alert takes a minute and a half
        first.handled.push(String(alert.id));
        return "handled";
      },
    });
    const result = await first.summary;
    expect(result.outcome).toBe("windowOpen");
    expect(first.handled).toHaveLength(3); // at 0, 1.5 and 3 minutes; at 4.5 the budget is spent
    expect(result.retryLater).toBeGreaterThan(0);
    expect(Object.keys(store.cursor!.handled)).toHaveLength(3);
    const second = run(graph, store);
    expect(await second.summary).toMatchObject({ outcome: "windowDone" });
    expect(second.handled).toHaveLength(2);
  });

  it("stops at maxPages requests with the window open", async () => {
    const graph = new FakeGraph(at("2026-03-02T11:30:00.250Z", 9));
    const { summary } = run(graph, new MemoryCursor(), { settings: { lookbackInMs: 3_600_000, pageSize: 2, maxPages: 3 } });
    expect(await summary).toMatchObject({ outcome: "windowOpen", pages: 3 });
    expect(graph.requests).toHaveLength(3);
  });
});
