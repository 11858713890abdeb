/**
 * Recorded orchestrator histories ("replay fixtures") and their replay through the REAL
 * durable-functions handler, as the devhost engine calls it (devhost/episode.ts): same handler
 * input shape, same invocation context, same parsing of the answer.
 *
 * A fixture holds, per execution, the PascalCase history the engine fed the handler (through the
 * last delivered event) and the orchestration input; for every episode, how many events it saw
 * and a hash of the actions it returned; the actions of the last episode in full. Replaying episode
 * k hands the handler the first `events` of the history, exactly as the engine did.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  createInvocationContext,
  parseOrchestrationFailure,
  parseOrchestratorState,
  silentDevhostLogger,
  type HistoryEvent,
  type RegisteredFunction,
  type WireAction,
} from "../../../devhost";

/** Where the fixtures live. */
export const REPLAY_FIXTURE_DIR = path.join(__dirname, "..", "fixtures", "replay");

/** What one episode returned when it was recorded. */
export interface RecordedEpisode {
  /** Length of the history prefix the handler saw (the last two are OrchestratorStarted and the delivered event). */
  events: number;
  /** SHA-256 of the JSON of the returned actions (cumulative for the execution, replay schema V3). */
  actionsSha256: string;
  isDone: boolean;
  /** The orchestrator's own error message, when the episode failed. */
  error?: string;
}

/** One execution of one instance (continueAsNew starts the next). */
export interface RecordedExecution {
  instanceId: string;
  /** The orchestration input the handler received (the starter's, or the continueAsNew one). */
  input: unknown;
  history: HistoryEvent[];
  episodes: RecordedEpisode[];
  /** The last episode's answer in full. */
  last: { actions: WireAction[]; isDone: boolean; output?: unknown; error?: string };
}

/** One recorded scenario. */
export interface ReplayFixture {
  orchestrator: string;
  scenario: string;
  /** The commit whose orchestrator produced these histories. */
  recordedFrom: string;
  executions: RecordedExecution[];
}

/** What a replay of one episode returned. */
export interface EpisodeAnswer {
  actions: WireAction[];
  isDone: boolean;
  output?: unknown;
  error?: string;
}

/** The handler input of episode `episode`, exactly as devhost/episode.ts builds it. */
export function handlerInputOf(execution: RecordedExecution, episode: RecordedEpisode): Record<string, unknown> {
  const history = execution.history.slice(0, episode.events).map((e, i) => ({ ...e, IsPlayed: i < episode.events - 2 }));
  return {
    history,
    input: JSON.parse(JSON.stringify(execution.input)) as unknown,
    instanceId: execution.instanceId,
    isReplaying: episode.events > 2,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 2,
    longRunningTimerIntervalDuration: "3.00:00:00",
    maximumShortTimerDuration: "6.00:00:00",
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
}

/** Calls the registered orchestration handler (the library's wrapper around the orchestrator) with `input`. */
export async function callHandler(fn: RegisteredFunction, input: Record<string, unknown>): Promise<EpisodeAnswer> {
  const context = createInvocationContext(fn, silentDevhostLogger, { instanceId: String(input.instanceId) });
  try {
    // The library turns Timestamp strings into Dates in place: hand it its own copy.
    return answerOf(await fn.handler(JSON.parse(JSON.stringify(input)), context));
  } catch (error) {
    return failureAnswerOf(error);
  }
}

/** An episode's answer from what the handler returned. */
export function answerOf(result: unknown): EpisodeAnswer {
  const state = parseOrchestratorState(result);
  return { actions: state.actions.flat(), isDone: state.isDone, output: state.output };
}

/**
 * An episode's answer from what the handler threw: an orchestrator error comes wrapped with the
 * state it reached. Anything else (a fault of the library or of this code) is rethrown.
 */
export function failureAnswerOf(error: unknown): EpisodeAnswer {
  const failure = parseOrchestrationFailure(error instanceof Error ? error.message : String(error));
  if (!failure.state) throw error;
  return { actions: failure.state.actions.flat(), isDone: failure.state.isDone, error: failure.message };
}

/** The hash recorded per episode. */
export function actionsSha256(actions: WireAction[]): string {
  return createHash("sha256").update(JSON.stringify(actions)).digest("hex");
}

/** Every fixture file, by file name. */
export function loadReplayFixtures(dir = REPLAY_FIXTURE_DIR): Array<{ file: string; fixture: ReplayFixture }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, fixture: JSON.parse(readFileSync(path.join(dir, file), "utf8")) as ReplayFixture }));
}

/** JSON with one history event, episode or action per line: small diffs, readable in review. */
export function formatFixture(fixture: ReplayFixture): string {
  const list = (items: unknown[], indent: string) => `[\n${items.map((i) => `${indent}  ${JSON.stringify(i)}`).join(",\n")}\n${indent}]`;
  const executions = fixture.executions.map((e) =>
    [
      `    {`,
      `      "instanceId": ${JSON.stringify(e.instanceId)},`,
      `      "input": ${JSON.stringify(e.input)},`,
      `      "history": ${list(e.history, "      ")},`,
      `      "episodes": ${list(e.episodes, "      ")},`,
      `      "last": ${JSON.stringify(e.last)}`,
      `    }`,
    ].join("\n"),
  );
  const head = `  "orchestrator": ${JSON.stringify(fixture.orchestrator)},\n  "scenario": ${JSON.stringify(fixture.scenario)},\n  "recordedFrom": ${JSON.stringify(fixture.recordedFrom)},`;
  return `{\n${head}\n  "executions": [\n${executions.join(",\n")}\n  ]\n}\n`;
}
