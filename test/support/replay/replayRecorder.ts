/**
 * Records what the devhost engine feeds an orchestrator and what it answers, episode by episode,
 * by wrapping the registered handler; turns that into replay fixtures (see replayFixture.ts).
 */
import { isDeepStrictEqual } from "node:util";
import { EventType, type HistoryEvent, type RegisteredFunction } from "../../../devhost";
import { actionsSha256, answerOf, failureAnswerOf, handlerInputOf, type EpisodeAnswer, type RecordedExecution } from "./replayFixture";

interface CapturedEpisode {
  input: { history: HistoryEvent[]; input: unknown; instanceId: string } & Record<string, unknown>;
  answer: EpisodeAnswer;
}

/** Wraps `fn.handler` until {@link HandlerRecorder.restore}; the handler's results pass through untouched. */
export class HandlerRecorder {
  readonly #fn: RegisteredFunction;
  readonly #real: RegisteredFunction["handler"];
  /** Episodes by execution id, in the order they ran. */
  readonly #byExecution = new Map<string, CapturedEpisode[]>();

  constructor(fn: RegisteredFunction) {
    this.#fn = fn;
    this.#real = fn.handler;
    fn.handler = async (...args: unknown[]) => {
      const input = JSON.parse(JSON.stringify(args[0])) as CapturedEpisode["input"];
      try {
        const result = await this.#real(...args);
        this.#capture(input, answerOf(result));
        return result;
      } catch (error) {
        this.#capture(input, failureAnswerOf(error));
        throw error;
      }
    };
  }

  restore(): void {
    this.#fn.handler = this.#real;
  }

  /**
   * The recorded executions of these instances, oldest first.
   * @throws Error when an episode's input is not what {@link handlerInputOf} rebuilds from the fixture
   */
  executionsOf(instanceIds: string[]): RecordedExecution[] {
    const executions: RecordedExecution[] = [];
    for (const episodes of this.#byExecution.values()) {
      const last = episodes[episodes.length - 1]!;
      if (!instanceIds.includes(last.input.instanceId)) continue;
      const execution: RecordedExecution = {
        instanceId: last.input.instanceId,
        input: last.input.input,
        history: last.input.history,
        episodes: episodes.map((e) => ({
          events: e.input.history.length,
          actionsSha256: actionsSha256(e.answer.actions),
          isDone: e.answer.isDone,
          ...(e.answer.error !== undefined ? { error: e.answer.error } : {}),
        })),
        last: last.answer,
      };
      episodes.forEach((e, i) => {
        const rebuilt = handlerInputOf(execution, execution.episodes[i]!);
        if (!isDeepStrictEqual(rebuilt, e.input)) {
          const field = Object.keys(e.input).find((k) => !isDeepStrictEqual(rebuilt[k], e.input[k]));
          throw new Error(
            `episode ${i} of ${execution.instanceId}: its input (${field}) is not what the fixture rebuilds: ${JSON.stringify(e.input[field ?? ""]).slice(0, 400)} vs ${JSON.stringify(rebuilt[field ?? ""]).slice(0, 400)}`,
          );
        }
      });
      executions.push(execution);
    }
    return executions.sort((a, b) => instanceIds.indexOf(a.instanceId) - instanceIds.indexOf(b.instanceId));
  }

  #capture(input: CapturedEpisode["input"], answer: EpisodeAnswer): void {
    const started = input.history.find((e) => e.EventType === EventType.ExecutionStarted);
    const executionId = started?.OrchestrationInstance?.ExecutionId;
    if (!executionId) throw new Error(`episode of ${input.instanceId} without an ExecutionStarted event naming its execution`);
    const list = this.#byExecution.get(executionId) ?? [];
    list.push({ input, answer });
    this.#byExecution.set(executionId, list);
  }
}
