import type { InvocationContext } from "@azure/functions";
import { createActionPoller, pollWatchedActions, type ActionPollerDeps } from "../../../functions/actionPoller";
import type { DurableAccess } from "../../../functions/durableAccess";
import {
  actionSignature,
  type PollSchedule,
  type WatchEntry,
  type WatchStore,
  type WatchedAction,
} from "../../../shared/actionWatch/watchStore";
import { createGetMachineAction } from "../../../activities/getMachineAction";
import { MdeApiError } from "../../../shared/errors";
import { silentLogger } from "../../../shared/log";
import type { MdeApi } from "../../../shared/mde/api";
import type { MachineAction } from "../../../shared/mde/models";
import { WATCH_LIST_MAX_SKIP_IN_MS } from "../../../shared/timing";
import { machineAction } from "../../support/fakes";

const ACTION_POLL_INTERVAL_IN_MS = 30_000;

const T0 = Date.parse("2026-03-02T09:00:00Z");
const MINUTE = 60_000;
const guid = (i: number) => `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`;

function action(i: number, status: MachineAction["status"], commandStatus = status === "Pending" ? "Created" : status): MachineAction {
  return machineAction({
    id: guid(i),
    status,
    requestorComment: `collect [collector:collect-${i}]`,
    commands: [
      { index: 0, type: "GetFile", params: [], commandStatus: commandStatus as never, errors: [], startTime: null, endTime: null },
    ],
  });
}

/** The watch list in memory, as the blob store keeps it. */
class MemoryWatchStore implements WatchStore {
  readonly pollIntervalInMs = ACTION_POLL_INTERVAL_IN_MS;
  readonly items = new Map<string, WatchedAction>();
  writes = 0;
  lists = 0;
  async list() {
    this.lists++;
    return [...this.items.values()].map((w) => ({ ...w.entry }));
  }
  async read(instanceId: string) {
    return this.items.get(instanceId);
  }
  schedule: PollSchedule | undefined;
  async write(instanceId: string, a: MachineAction, readAtMs: number) {
    this.writes++;
    const final = ["Succeeded", "Failed", "TimeOut", "Cancelled"].includes(a.status);
    const entry: WatchEntry = { instanceId, actionId: a.id, signature: actionSignature(a), final, readAtMs };
    this.items.set(instanceId, { entry, action: structuredClone(a) });
  }
  async readSchedule() {
    return this.schedule;
  }
  async writeSchedule(schedule: PollSchedule) {
    this.schedule = schedule;
  }
  async remove(instanceId: string) {
    this.items.delete(instanceId);
  }
  localWrites() {
    return this.writes;
  }
}

function setup(now = T0) {
  const clock = { now };
  const mdeActions = new Map<string, MachineAction>();
  const listCalls: string[] = [];
  const mde = {
    listMachineActions: jest.fn(async (query: { filter?: string; top?: number }) => {
      listCalls.push(query.filter!);
      return [...mdeActions.values()].filter((a) => query.filter!.includes(`'${a.id}'`));
    }),
  };
  const store = new MemoryWatchStore();
  const raised: { instanceId: string; name: string }[] = [];
  /** Instances Durable no longer runs (raising an event on them fails), by runtime status; undefined: purged. */
  const gone = new Map<string, string | undefined>();
  const durable = () =>
    ({
      client: {
        raiseEvent: async (instanceId: string, name: string) => {
          if (gone.has(instanceId)) throw new Error(`instance ${instanceId} is not running`);
          raised.push({ instanceId, name });
        },
      },
      findStatus: async (instanceId: string) => {
        if (!gone.has(instanceId)) return { runtimeStatus: "Running" };
        const runtimeStatus = gone.get(instanceId);
        return runtimeStatus === undefined ? undefined : { runtimeStatus };
      },
    }) as unknown as DurableAccess;
  const governor = {
    acquireRead: jest.fn(async () => ({ kind: "granted" as const })),
    observeSessions: jest.fn(async () => ({ kind: "observed" as const, wake: [] as string[] })),
    reportThrottled: jest.fn(async () => ({ kind: "backedOff" as const, until: 0 })),
    releaseSession: jest.fn(async () => ({ kind: "released" as const, held: true })),
  };
  const deps: ActionPollerDeps = {
    mde,
    watch: store,
    governor,
    collection: { pollMaxDelayInMs: 15 * MINUTE, actionPollIntervalInMs: ACTION_POLL_INTERVAL_IN_MS },
    now: () => new Date(clock.now),
    durable: () => durable(),
  };
  /** Watched since a minute ago (so a round is due at once). */
  const watch = async (i: number, a: MachineAction) => {
    mdeActions.set(a.id, a);
    await store.write(`collect-${i}`, a, clock.now - MINUTE);
  };
  return { clock, mde, mdeActions, listCalls, store, raised, gone, governor, deps, watch, durable };
}

const context = { invocationId: "i", log: () => undefined, warn: () => undefined, error: () => undefined } as unknown as InvocationContext;

describe("the action poller's round", () => {
  it("reads 60 watched actions with two list calls and wakes only the collections whose action changed", async () => {
    const s = setup();
    for (let i = 0; i < 60; i++) await s.watch(i, action(i, "Pending"));
    s.mdeActions.set(guid(7), action(7, "InProgress"));
    s.mdeActions.set(guid(8), action(8, "Succeeded"));
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(s.mde.listMachineActions).toHaveBeenCalledTimes(2);
    expect(summary).toMatchObject({ watched: 60, listCalls: 2, read: 60, woken: 2 });
    expect(s.raised.map((r) => r.instanceId).sort()).toEqual(["collect-7", "collect-8"]);
    expect(s.raised.every((r) => r.name === "ActionUpdated")).toBe(true);
    // The copies the woken collections will read are the ones MDE just gave; unchanged ones are not
    // rewritten (60 registrations + 2), the round's schedule confirms them.
    expect((await s.store.read("collect-7"))!.action.status).toBe("InProgress");
    expect(s.store.writes).toBe(62);
    expect(s.store.schedule).toEqual({ roundAtMs: T0, nextRoundAtMs: T0 + ACTION_POLL_INTERVAL_IN_MS, gapMs: ACTION_POLL_INTERVAL_IN_MS });
    // One governor write per page: the final session goes back, the others keep their slots.
    const observed = s.governor.observeSessions.mock.calls.map((c) => (c as unknown[])[0] as { renew: string[]; release: string[] });
    expect(observed.flatMap((o) => o.release)).toEqual(["collect-8"]);
    expect(observed.flatMap((o) => o.renew)).toHaveLength(59);
  });

  it("wakes the collections the governor names at the head of its queue for a session slot", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.mdeActions.set(guid(1), action(1, "Succeeded"));
    s.governor.observeSessions.mockResolvedValueOnce({ kind: "observed", wake: ["queued-1", "queued-2"] });
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(summary.slotWakes).toBe(2);
    expect(s.raised.map((r) => r.instanceId)).toEqual(["collect-1", "queued-1", "queued-2"]);
  });

  it("takes a queued collection that is gone out of the slot queue, so it does not stand at the head for hours", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.mdeActions.set(guid(1), action(1, "Succeeded"));
    s.gone.set("terminated-1", "Terminated");
    s.gone.set("purged-1", undefined);
    s.governor.observeSessions.mockResolvedValueOnce({ kind: "observed", wake: ["terminated-1", "purged-1", "queued-2"] });
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(summary).toMatchObject({ slotWakes: 1, slotQueueLeft: 2 });
    expect(s.governor.releaseSession.mock.calls.map((c) => (c as unknown[])[0])).toEqual(["terminated-1", "purged-1"]);
    expect(s.raised.map((r) => r.instanceId)).toEqual(["collect-1", "queued-2"]);
  });

  it("keeps the place of a queued collection that could not be woken but still runs", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.mdeActions.set(guid(1), action(1, "Succeeded"));
    s.gone.set("flaky-1", "Running");
    s.governor.observeSessions.mockResolvedValueOnce({ kind: "observed", wake: ["flaky-1"] });
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(summary).toMatchObject({ slotWakes: 0, slotQueueLeft: 0 });
    expect(s.governor.releaseSession).not.toHaveBeenCalled();
  });

  it("wakes the slot queue even when nothing is watched: a slot freed by a refused submission has no action to observe", async () => {
    const s = setup();
    s.governor.observeSessions.mockResolvedValueOnce({ kind: "observed", wake: ["queued-1"] });
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(s.mde.listMachineActions).not.toHaveBeenCalled();
    expect(s.governor.observeSessions).toHaveBeenCalledWith({ renew: [], release: [] }, T0);
    expect(summary.slotWakes).toBe(1);
    expect(s.raised.map((r) => r.instanceId)).toEqual(["queued-1"]);
  });

  it("wakes the slot queue after a round whose pages found none of their actions", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.mdeActions.delete(guid(1));
    s.governor.observeSessions.mockResolvedValueOnce({ kind: "observed", wake: ["queued-1"] });
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(summary).toMatchObject({ listCalls: 1, read: 0, slotWakes: 1 });
    expect(s.governor.observeSessions).toHaveBeenCalledTimes(1);
    expect(s.governor.observeSessions).toHaveBeenCalledWith({ renew: [], release: [] }, T0);
  });

  it("asks the governor before each list call and calls nothing when it says wait", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.governor.acquireRead.mockResolvedValueOnce({ kind: "wait", waitMs: 5_000 } as never);
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(summary.stoppedBy).toBe("governor");
    expect(s.mde.listMachineActions).not.toHaveBeenCalled();
  });

  it("backs the whole tenant off when MDE throttles the list anyway", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.mde.listMachineActions.mockRejectedValueOnce(
      new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", retryAfterInMs: 30_000 }),
    );
    const summary = await pollWatchedActions(s.deps, s.durable, silentLogger);
    expect(summary.stoppedBy).toBe("throttled");
    expect(s.governor.reportThrottled).toHaveBeenCalledWith("listMachineActions", 30_000, T0);
    expect(s.raised).toEqual([]);
  });

  it("skips even the listing while nothing is due, until this process writes or the skip bound passes", async () => {
    const s = setup();
    await s.watch(1, action(1, "Pending"));
    s.store.schedule = { roundAtMs: T0, nextRoundAtMs: T0 + 10 * MINUTE, gapMs: 10 * MINUTE };
    const poller = createActionPoller(s.deps);
    await poller({} as never, context);
    expect(s.store.lists).toBe(1);
    expect(s.mde.listMachineActions).not.toHaveBeenCalled();
    s.clock.now = T0 + ACTION_POLL_INTERVAL_IN_MS;
    await poller({} as never, context);
    expect(s.store.lists).toBe(1);
    // A new entry (written through this process) is read one interval after it was written.
    s.clock.now = T0 + 2 * ACTION_POLL_INTERVAL_IN_MS;
    s.mdeActions.set(guid(2), action(2, "Pending"));
    await s.store.write("collect-2", action(2, "Pending"), T0 + 20_000);
    await poller({} as never, context);
    expect(s.store.lists).toBe(2);
    expect(s.mde.listMachineActions).toHaveBeenCalledTimes(1);
    s.clock.now = T0 + WATCH_LIST_MAX_SKIP_IN_MS + ACTION_POLL_INTERVAL_IN_MS;
    await poller({} as never, context);
    expect(s.store.lists).toBe(3);
  });
});

describe("getMachineAction for a watched collection", () => {
  function activity(store: WatchStore, now: number) {
    const mde = { getMachineAction: jest.fn(async (id: string) => action(Number(id.slice(0, 8)), "Pending")) };
    const handler = createGetMachineAction({ mde: mde as unknown as MdeApi, watch: store, now: () => new Date(now) });
    return { mde, run: (input: { actionId: string; watchedBy?: string }) => handler(input, context) };
  }

  it("takes the poller's fresh copy instead of reading MDE", async () => {
    const store = new MemoryWatchStore();
    await store.write("collect-1", action(1, "Pending"), T0 - 20 * MINUTE);
    await store.write("collect-1", action(1, "InProgress"), T0);
    const { mde, run } = activity(store, T0 + 10_000);
    expect(await run({ actionId: guid(1), watchedBy: "collect-1" })).toMatchObject({ kind: "action", action: { status: "InProgress" } });
    expect(mde.getMachineAction).not.toHaveBeenCalled();
  });

  it("takes a copy a complete round confirmed unchanged, while the poller keeps its schedule", async () => {
    const store = new MemoryWatchStore();
    await store.write("collect-1", action(1, "InProgress"), T0 - 30 * MINUTE);
    store.schedule = { roundAtMs: T0, nextRoundAtMs: T0 + ACTION_POLL_INTERVAL_IN_MS, gapMs: ACTION_POLL_INTERVAL_IN_MS };
    const { mde, run } = activity(store, T0 + ACTION_POLL_INTERVAL_IN_MS);
    expect(await run({ actionId: guid(1), watchedBy: "collect-1" })).toMatchObject({ action: { status: "InProgress" } });
    expect(mde.getMachineAction).not.toHaveBeenCalled();
  });

  it("reads MDE when the copy is stale (the poller stopped) and puts the action on the watch list", async () => {
    const store = new MemoryWatchStore();
    await store.write("collect-1", action(1, "InProgress"), T0);
    store.schedule = { roundAtMs: T0, nextRoundAtMs: T0 + ACTION_POLL_INTERVAL_IN_MS, gapMs: ACTION_POLL_INTERVAL_IN_MS };
    const later = T0 + 10 * MINUTE;
    const { mde, run } = activity(store, later);
    expect(await run({ actionId: guid(1), watchedBy: "collect-1" })).toMatchObject({ action: { status: "Pending" } });
    expect(mde.getMachineAction).toHaveBeenCalledTimes(1);
    expect((await store.read("collect-1"))!.entry).toMatchObject({ readAtMs: later, signature: "Pending|0:Created" });
  });

  it("reads MDE for a collection started before batched polling, and writes nothing", async () => {
    const store = new MemoryWatchStore();
    const { mde, run } = activity(store, T0);
    await run({ actionId: guid(1) });
    expect(mde.getMachineAction).toHaveBeenCalledTimes(1);
    expect(store.items.size).toBe(0);
  });
});
