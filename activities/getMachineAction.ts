import type { InvocationContext } from "@azure/functions";
import { isFresh } from "../shared/actionWatch/pollRound";
import { putOnWatchList, type WatchStore } from "../shared/actionWatch/watchStore";
import { jsonLogger, type Logger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";
import type { MdeApi } from "../shared/mde/api";
import { isFinalActionStatus, type MachineAction } from "../shared/mde/models";
import type { GetActionInput, GetActionOutput } from "../shared/contract";
import { withPublicFaults } from "./activityFault";
import { Governed, holderOfComment, type GovernorDeps } from "./governed";
import { expectedMdeFailure } from "./mdeFailure";

/**
 * Reads the machine action once; the orchestrator does the waiting, on durable timers. The read is
 * asked of the tenant-wide governor first (a wait comes back as `throttled`, like MDE's 429). The
 * answer then tells the governor about the session: still running, its slot's lease runs on; final,
 * the slot goes back. The holder is the instance named by the marker the action's comment ends with.
 *
 * A watched collection (`watchedBy`) first takes the action poller's copy when it is fresh
 * (functions/actionPoller.ts read it for the whole tenant in one call): no MDE call at all. Otherwise
 * it reads MDE and records what it read, which also puts the action on the poller's watch list.
 */
export function createGetMachineAction(deps: { mde: MdeApi; watch?: WatchStore } & GovernorDeps) {
  const now = deps.now ?? (() => new Date());
  return withPublicFaults(async function getMachineAction(input: GetActionInput, context: InvocationContext): Promise<GetActionOutput> {
    const log = jsonLogger(context, { actionId: input.actionId });
    const governed = new Governed(deps, log);
    const watched = input.watchedBy !== undefined && deps.watch ? { store: deps.watch, instanceId: input.watchedBy } : undefined;
    const copy = watched ? await watchedCopy(watched.store, watched.instanceId, input.actionId, now(), log) : undefined;
    if (copy) {
      await observe(governed, copy, log);
      return { kind: "action", action: copy };
    }
    const wait = await governed.beforeRead("getMachineAction");
    if (wait) return wait;
    let action;
    try {
      action = await deps.mde.getMachineAction(input.actionId);
    } catch (e) {
      await governed.afterError("getMachineAction", e);
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      return outcome;
    }
    if (watched) await putOnWatchList(watched.store, watched.instanceId, action, now(), log);
    await observe(governed, action, log);
    return { kind: "action", action };
  });
}

/** The poller's copy of the action, when there is one for this action and it is still fresh. */
async function watchedCopy(
  store: WatchStore,
  instanceId: string,
  actionId: string,
  now: Date,
  log: Logger,
): Promise<MachineAction | undefined> {
  try {
    const [watched, schedule] = await Promise.all([store.read(instanceId), store.readSchedule()]);
    const fresh = watched && watched.action.id === actionId && isFresh(watched.entry, schedule, now.getTime(), store.pollIntervalInMs);
    return fresh ? watched.action : undefined;
  } catch (e) {
    // The state storage is unreachable: MDE itself still answers.
    log.warn("watched copy unreadable; reading MDE", { detail: describeFailure(e) });
    return undefined;
  }
}

/** Tells the governor what the action says of its session. */
async function observe(governed: Governed, action: MachineAction, log: Logger): Promise<void> {
  const holder = holderOfComment(action.requestorComment);
  if (holder === undefined) log.warn("action comment carries no collector marker; its session slot is not renewed", {});
  else if (isFinalActionStatus(action.status)) await governed.release(holder);
  else await governed.renew(holder);
}
