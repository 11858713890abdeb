import { ActivityNames, type CollectInput, type CollectionProgress, type CollectOutput } from "../shared/contract";
import { producesResult } from "../shared/evidence/manifest";
import { collectAgain, throttleDelayInMs } from "../shared/timing";
import { stopRequested, tryActivity, type CollectionRun, type Durable, type Waiting } from "./collectionRun";

/**
 * Copies each completed result not yet in the evidence container; link fetch and copy happen
 * together in one activity. A large result goes chunk by chunk, each chunk its own activity with a
 * fresh link, its progress kept through throttling. Returns a throttled step when MDE asks to wait.
 * @param options.stopOnRequest - leave the rest for later when a cancel arrives or the deadline passes
 */
export function* collectCompleted(run: CollectionRun, options: { stopOnRequest: boolean }): Durable<Waiting | undefined> {
  const { context, input, progress } = run;
  for (const index of pendingIndexes(progress)) {
    for (;;) {
      if (options.stopOnRequest && stopRequested(run)) return undefined;
      const chunk = progress.chunks[index];
      run.publish("collecting", { message: `collecting the result of command ${index}${chunk ? ` (${chunk.offset} bytes so far)` : ""}` });
      const collectInput: CollectInput = {
        instanceId: context.df.instanceId,
        machineId: input.request.machineId,
        actionId: progress.action!.id,
        index,
        command: input.request.commands[index],
        chunk,
      };
      const attempt = yield* tryActivity<CollectOutput>(run, ActivityNames.collectCommandResult, collectInput);
      if (!attempt.ok) {
        // Retries exhausted on a transient fault: try again at a later poll, a bounded number of times.
        failedRound(progress, index, "CollectionFailed", attempt.message);
        break;
      }
      const answer = attempt.value;
      if (answer.kind === "throttled") {
        progress.throttled++;
        return { done: false, delayInMs: throttleDelayInMs(input.policy, answer.retryAfterInMs), phase: "throttled" };
      }
      if (answer.kind === "inProgress") {
        if (answer.chunk) progress.chunks[index] = answer.chunk;
        else {
          delete progress.chunks[index];
          if (failedRound(progress, index, "SourceChanged", "the result changed while it was being copied")) break;
        }
        continue;
      }
      delete progress.chunks[index];
      if (answer.kind === "collected") progress.collected.push(answer.evidence);
      else recordError(progress, index, answer.code, answer.message);
      break;
    }
  }
  return undefined;
}

/** Completed commands with a result that is neither collected nor given up on. */
export function pendingIndexes(progress: CollectionProgress): number[] {
  return (progress.action?.commands ?? [])
    .filter((c) => c.commandStatus === "Completed" && producesResult(c.type))
    .map((c) => c.index)
    .filter((i) => !progress.collected.some((r) => r.index === i) && !progress.collectionErrors.some((e) => e.index === i));
}

/** Records why a result is missing (once per command), so the manifest says so. */
export function recordError(progress: CollectionProgress, index: number, code: string, message: string): void {
  if (!progress.collectionErrors.some((e) => e.index === index)) progress.collectionErrors.push({ index, code, message });
}

/** Counts a failed round; true when it was the last one allowed and the error is now on record. */
function failedRound(progress: CollectionProgress, index: number, code: string, message: string): boolean {
  const rounds = (progress.collectAttempts[index] = (progress.collectAttempts[index] ?? 0) + 1);
  if (collectAgain(rounds)) return false;
  recordError(progress, index, code, message);
  return true;
}
