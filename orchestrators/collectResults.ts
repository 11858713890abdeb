import { ActivityNames, type CollectInput, type CollectOutput } from "../shared/contract";
import { producesResult } from "../shared/evidence/manifest";
import type { CollectionProgress } from "../shared/contract";
import { stopRequested, tryActivity, type Gen, type Run, type StepResult } from "./run";

/** A result whose copy keeps failing (or whose source keeps changing) after this many rounds is recorded as an error, not retried forever. */
export const MAX_COLLECT_ROUNDS = 3;

/**
 * Copies each completed result not yet in the evidence container; link fetch and copy happen
 * together in one activity. A large result goes chunk by chunk, each chunk its own activity with a
 * fresh link, its progress kept through throttling. Returns a throttled step when MDE asks to wait.
 * @param options.stopOnRequest - leave the rest for later when a cancel arrives or the deadline passes
 */
export function* collectCompleted(run: Run, options: { stopOnRequest: boolean }): Gen<StepResult | undefined> {
  const { context, input, p } = run;
  for (const index of pendingIndexes(p)) {
    for (;;) {
      if (options.stopOnRequest && stopRequested(run)) return undefined;
      const chunk = p.chunks[index];
      run.publish("collecting", { message: `collecting the result of command ${index}${chunk ? ` (${chunk.offset} bytes so far)` : ""}` });
      const collectInput: CollectInput = { instanceId: context.df.instanceId, machineId: input.request.machineId, actionId: p.action!.id, index, command: input.request.commands[index], chunk };
      const attempt = yield* tryActivity<CollectOutput>(run, ActivityNames.collectCommandResult, collectInput);
      if (!attempt.ok) {
        // Retries exhausted on a transient fault: try again at a later poll, a bounded number of times.
        failedRound(p, index, "CollectionFailed", attempt.message);
        break;
      }
      const r = attempt.value;
      if (r.kind === "throttled") {
        p.throttled++;
        return { done: false, delayInMs: r.retryAfterInMs ?? input.policy.throttleDelayInMs, phase: "throttled" };
      }
      if (r.kind === "inProgress") {
        if (r.chunk) p.chunks[index] = r.chunk;
        else {
          delete p.chunks[index];
          if (failedRound(p, index, "SourceChanged", "the result changed while it was being copied")) break;
        }
        continue;
      }
      delete p.chunks[index];
      if (r.kind === "collected") p.collected.push(r.evidence);
      else recordError(p, index, r.code, r.message);
      break;
    }
  }
  return undefined;
}

/** Completed commands with a result that is neither collected nor given up on. */
export function pendingIndexes(p: CollectionProgress): number[] {
  return (p.action?.commands ?? [])
    .filter((c) => c.commandStatus === "Completed" && producesResult(c.type))
    .map((c) => c.index)
    .filter((i) => !p.collected.some((r) => r.index === i) && !p.collectionErrors.some((e) => e.index === i));
}

export function recordError(p: CollectionProgress, index: number, code: string, message: string): void {
  if (!p.collectionErrors.some((e) => e.index === index)) p.collectionErrors.push({ index, code, message });
}

/** Counts a failed round; true when this was the last one allowed and the error is now on record. */
function failedRound(p: CollectionProgress, index: number, code: string, message: string): boolean {
  const rounds = (p.collectAttempts[index] = (p.collectAttempts[index] ?? 0) + 1);
  if (rounds < MAX_COLLECT_ROUNDS) return false;
  recordError(p, index, code, message);
  return true;
}
