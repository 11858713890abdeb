/**
 * Instances of collectEvidence live up to three days, so an upgrade meets histories written by the
 * previous code. Each fixture in test/support/fixtures/replay is such a history, recorded from a committed
 * orchestrator (recordReplayFixtures.test.ts); here the orchestrator registered today under the
 * same name replays every episode of it, through the same durable-functions code path the devhost
 * engine uses, and must answer as the recorded one did: the same actions (kind, name, timer, event;
 * not the inputs, which Durable never matches), tasks at the same ids, the same end. A change that fails this must not reuse the name: register a new orchestrator
 * version beside the old one and let old instances drain (README, "Upgrading").
 */
import { registerApp } from "../../../app";
import { ActionType, EventType, findFunction, type HistoryEvent, type RegisteredFunction, type WireAction } from "../../../devhost";
import { ActivityNames } from "../../../shared/contract";
import { loadConfig } from "../../../shared/config";
import { fakeEvidence, fakeMde } from "../../support/fakes";
import { actionsSha256, callHandler, handlerInputOf, loadReplayFixtures, type RecordedExecution } from "../../support/replay/replayFixture";
import { comparable, recordedTasks, TaskIdMirror } from "../../support/replay/taskIds";

const fixtures = loadReplayFixtures();

beforeAll(() => {
  // The real composition root registers the orchestrators; activities never run during a replay.
  const config = loadConfig({
    EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net",
    AUTH_TENANT_ID: "00000000-0000-0000-0000-000000000000",
    AUTH_AUDIENCE: "api://evidence-collector",
    MANIFEST_SIGNING_KEY_ID: "https://kv-collector-test.vault.azure.net/keys/manifest-signing",
    AzureWebJobsStorage__blobServiceUri: "https://contosohost.blob.core.windows.net",
  });
  const signer = { sign: jest.fn(async () => Promise.reject(new Error("activities never run during a replay"))) };
  registerApp({ config, mde: fakeMde(), evidence: fakeEvidence(), signer, now: () => new Date(0) });
});

const nameOf = (names: Record<string, number>, value: number) => Object.entries(names).find(([, v]) => v === value)?.[0] ?? String(value);

/** One action in words, for a failure message. */
function actionLabel(action: WireAction): string {
  const kind = nameOf(ActionType, action.actionType);
  if (action.compoundActions) return `${kind}[${action.compoundActions.map(actionLabel).join(", ")}]`;
  return `${kind} ${action.functionName ?? action.fireAt ?? action.externalEventName ?? ""}`.trim();
}

function orchestrator(name: string): RegisteredFunction {
  const fn = findFunction(name, "orchestrationTrigger");
  if (!fn) throw new Error(`no orchestrator named ${name} is registered: recorded instances of it could not resume`);
  return fn;
}

/**
 * What Durable replays by: the kind, name, timer and event of each action, in order. Activity and
 * continueAsNew inputs are left out: a history's scheduled tasks are matched by sequence and name,
 * never by input, so a change of a message inside an input (a reason, a manifest field) replays fine.
 */
function shapeOf(action: WireAction): unknown {
  const { input: _input, compoundActions, ...rest } = action as WireAction & { input?: unknown };
  return compoundActions ? { ...rest, compoundActions: compoundActions.map(shapeOf) } : rest;
}

/**
 * The actions the recorded episode answered. Actions are cumulative, so each episode's list is a
 * prefix of the execution's last one, except that a timer cancelled later (the losing timer of a
 * wait) was not cancelled yet: timers are cancelled in order, so the first j cancelled ones were.
 */
function recordedActions(execution: RecordedExecution, episode: RecordedExecution["episodes"][number]): WireAction[] {
  for (let n = 0; n <= execution.last.actions.length; n++) {
    const prefix = execution.last.actions.slice(0, n);
    const cancelled = timersIn(prefix).filter((t) => t.isCanceled);
    for (let j = cancelled.length; j >= 0; j--) {
      const candidate = withCancelledTimers(prefix, new Set(cancelled.slice(0, j)));
      if (actionsSha256(candidate) === episode.actionsSha256) return candidate;
    }
  }
  throw new Error(`episode with ${episode.events} events: its actions are not a prefix of the execution's last actions`);
}

function timersIn(actions: WireAction[]): WireAction[] {
  return actions.flatMap((a) => (a.compoundActions ? timersIn(a.compoundActions) : a.actionType === ActionType.CreateTimer ? [a] : []));
}

function withCancelledTimers(actions: WireAction[], cancelled: Set<WireAction>): WireAction[] {
  return actions.map((a) => {
    if (a.compoundActions) return { ...a, compoundActions: withCancelledTimers(a.compoundActions, cancelled) };
    return a.actionType === ActionType.CreateTimer && a.isCanceled && !cancelled.has(a) ? { ...a, isCanceled: false } : a;
  });
}

async function replayExecution(fn: RegisteredFunction, execution: RecordedExecution, label: string): Promise<void> {
  const mirror = new TaskIdMirror();
  for (const [k, episode] of execution.episodes.entries()) {
    const where = `${label}, episode ${k} of ${execution.episodes.length}`;
    const delivered = execution.history[episode.events - 1]!;
    const answer = await callHandler(fn, handlerInputOf(execution, episode));
    const recorded = recordedActions(execution, episode);
    if (JSON.stringify(answer.actions.map(shapeOf)) !== JSON.stringify(recorded.map(shapeOf))) {
      const tail = answer.actions.slice(-3).map(actionLabel).join("; ");
      throw new Error(
        `${where} (delivering ${nameOf(EventType, delivered.EventType)}): the actions differ from the recording; the last ones now are ${tail}`,
      );
    }
    // An orchestrator that failed must still fail there (its message may read better today).
    expect({ where, isDone: answer.isDone, failed: answer.error !== undefined }).toEqual({
      where,
      isDone: episode.isDone,
      failed: episode.error !== undefined,
    });
    const expected = mirror.expectedTasks(delivered, answer.actions);
    const recordedIds = recordedTasks(execution.history, episode.events - 2);
    expect({ where, tasks: recordedIds.map((r, i) => comparable(r, expected[i] ?? r)) }).toEqual({ where, tasks: expected });
    if (k === execution.episodes.length - 1) {
      const outcome = (o: unknown) => (o as { outcome?: string } | undefined)?.outcome;
      expect({ where, outcome: outcome(answer.output) }).toEqual({ where, outcome: outcome(execution.last.output) });
    }
  }
}

describe.each(fixtures)("replay of $file", ({ fixture }) => {
  it.each(
    fixture.executions.map((execution, i) => ({
      execution,
      label: `execution ${i + 1} of ${fixture.executions.length} (${execution.instanceId})`,
    })),
  )("answers $label as recorded: same actions, same task ids, same end", async ({ execution, label }) => {
    await replayExecution(orchestrator(fixture.orchestrator), execution, label);
  });
});

/** What the recorded histories went through, to show the fixtures still reach every place the orchestrator waits or decides. */
function coverage() {
  const seen = new Set<string>();
  for (const { fixture } of fixtures) {
    for (const execution of fixture.executions) {
      const names = new Map<number, string>();
      for (const e of execution.history as HistoryEvent[]) {
        if (e.EventType === EventType.TaskScheduled) names.set(e.EventId, e.Name ?? "?");
        if (e.EventType === EventType.TaskCompleted)
          seen.add(`${names.get(e.TaskScheduledId!)}:${(JSON.parse(e.Result ?? "null") as { kind?: string } | null)?.kind ?? "value"}`);
        if (e.EventType === EventType.TaskFailed) seen.add(`${names.get(e.TaskScheduledId!)}:failed`);
        if (e.EventType === EventType.EventRaised) seen.add(`event:${e.Name}`);
      }
      const outcome = (execution.last.output as { outcome?: string } | undefined)?.outcome;
      if (outcome) seen.add(`outcome:${outcome}`);
      if (execution.last.actions.some((a) => a.actionType === ActionType.ContinueAsNew)) seen.add("continueAsNew");
    }
  }
  return seen;
}

it("the fixtures reach every yield path: each activity outcome, activity failures, cancel, continueAsNew, every end", () => {
  const required = [
    `${ActivityNames.submitLiveResponse}:submitted`,
    `${ActivityNames.submitLiveResponse}:deviceBusy`,
    `${ActivityNames.submitLiveResponse}:throttled`,
    `${ActivityNames.submitLiveResponse}:rejected`,
    `${ActivityNames.submitLiveResponse}:failed`,
    `${ActivityNames.findLiveResponse}:found`,
    `${ActivityNames.getMachineAction}:action`,
    `${ActivityNames.getMachineAction}:throttled`,
    `${ActivityNames.getMachineAction}:failed`,
    `${ActivityNames.collectCommandResult}:inProgress`,
    `${ActivityNames.collectCommandResult}:collected`,
    `${ActivityNames.collectCommandResult}:throttled`,
    `${ActivityNames.collectCommandResult}:failed`,
    `${ActivityNames.cancelMachineAction}:throttled`,
    `${ActivityNames.cancelMachineAction}:cancelled`,
    `${ActivityNames.writeManifest}:value`,
    `${ActivityNames.writeManifest}:failed`,
    "event:CancelCollection",
    "continueAsNew",
    ...["Completed", "Failed", "Rejected", "TimedOut", "Cancelled", "DeviceBusy"].map((o) => `outcome:${o}`),
  ];
  const seen = coverage();
  expect(required.filter((r) => !seen.has(r))).toEqual([]);
});
