import type { InvocationContext } from "@azure/functions";
import { MdeApiError } from "../shared/errors";
import { checkLibraryFiles, reviewedLibraryFiles, uncheckedLibraryFiles } from "../shared/library/libraryCheck";
import { deployedLibraryHashes, libraryFilesNamedBy } from "../shared/library/libraryFiles";
import type { LibrarySettings } from "../shared/library/librarySettings";
import { jsonLogger, type Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import type { MachineAction } from "../shared/mde/models";
import type { LibraryFileCheck, Rejected, ReviewedLibraryFile, SubmitInput, SubmitOutput, Throttled } from "../shared/contract";
import { describeFailure, publicMessage } from "../shared/publicMessage";
import { withPublicFaults } from "./activityFault";
import { Governed, holderOfMarker, type GovernorDeps } from "./governed";
import { expectedMdeFailure, rejectedBy } from "./mdeFailure";
import { findOwnAction } from "./ownAction";
import type { SubmissionRead, SubmissionRecords } from "./submissionRecords";
import { putOnWatchList, type WatchStore } from "../shared/actionWatch/watchStore";

export interface SubmitDeps extends GovernorDeps {
  mde: MdeApi;
  /**
   * Submission records in the state container. Without them every submission looks up an earlier
   * attempt first (a list machine actions call), as before the records existed.
   */
  records?: SubmissionRecords;
  /** The action poller's watch list: a watched collection's accepted action goes on it at once. */
  watch?: WatchStore;
  /** LIBRARY_* settings. @default unreviewed library files refused */
  library?: LibrarySettings;
  /** The deployed `library/` folder's hashes, for collections started before their input carried reviewed hashes. */
  deployedLibrary?: () => ReadonlyMap<string, string>;
  /** @default () => new Date() */
  now?: () => Date;
}

/**
 * Submits `runliveresponse`, safe to run twice. Submit first: a submission record written before
 * each POST (./submissionRecords.ts) says whether an earlier dispatch may have reached MDE (host
 * crash, lost answer, timeout, 5xx). Only then, or when MDE answers `ActiveRequestAlreadyExists`
 * (the session on the device may be ours), does it look for an action this orchestration already
 * created (its comment ends with the correlation marker, and its device and commands are the
 * request's), so a retry never starts a second session on the device and never adopts someone
 * else's action, while a normal submission makes no list call at all.
 *
 * The tenant-wide governor (./governed.ts) is asked before the library check and the POST: a session
 * slot and a submission token, or a wait answered as MDE's 429 would be (asking first keeps the
 * library listings, which have a budget of their own, at the submission rate). An MDE 429 backs
 * the tenant off; a definitive refusal (or a busy device) gives the slot back.
 *
 * Right before the POST, a request whose RunScript or PutFile names library files lists MDE's
 * library once and compares each file's SHA-256 with the reviewed one carried in the input
 * (shared/library/libraryCheck.ts). A changed, missing or unreviewed file refuses the collection:
 * nothing is submitted. The check lives here, not in the orchestrator, so that no retry or replay
 * can reach the POST without it and the orchestrator's sequence of tasks is unchanged.
 */
export function createSubmitLiveResponse(deps: SubmitDeps) {
  const now = deps.now ?? (() => new Date());
  return withPublicFaults(async function submitLiveResponse(input: SubmitInput, context: InvocationContext): Promise<SubmitOutput> {
    const log = jsonLogger(context, { machineId: input.machineId });
    const governed = new Governed(deps, log);
    // Holder of the session slot: the orchestration instance, named by the marker it puts in the comment.
    const holder = holderOfMarker(input.correlationMarker) ?? input.correlationMarker;
    const record = await readRecord(deps.records, holder, log);
    // An earlier dispatch may have reached MDE: look before posting again.
    const existing = record.state === "inFlight" ? await findOwnAction(deps.mde, input, log, governed) : undefined;
    if (existing && "kind" in existing) {
      if (existing.kind === "rejected") await governed.release(holder);
      return existing;
    }
    const usesLibrary = libraryFilesNamedBy(input.commands).length > 0;
    const reviewed =
      input.libraryFiles ?? reviewedLibraryFiles(input.commands, undefined, (deps.deployedLibrary ?? deployedLibraryHashes)());
    const reuse = async (action: MachineAction): Promise<SubmitOutput> => {
      log.info("reusing the action an earlier attempt created", { actionId: action.id });
      await resolveRecord(deps, holder, "submitted", log, action.id);
      await watchAccepted(deps, input, action, now(), log);
      // Already on MDE's side: record what the library holds now, but nothing is left to refuse.
      const libraryFiles = usesLibrary ? await observeLibrary(deps, input, reviewed, now, log) : undefined;
      return { kind: "submitted", action, reused: true, ...(libraryFiles ? { libraryFiles } : {}) };
    };
    if (existing) return reuse(existing);
    // Before the library check: the library listing (its own 100/min, 1,500/h budget) then runs only
    // for granted submissions, at most MDE_SUBMISSIONS_PER_MINUTE. A refusal gives the slot back.
    // A watched collection is woken by the action poller when a slot frees: its wait for one is long.
    const wait = await governed.beforeSubmission(holder, { wakeable: input.watchedBy !== undefined && deps.watch !== undefined });
    if (wait) return wait;
    let libraryFiles: LibraryFileCheck[] | undefined;
    if (usesLibrary) {
      const checked = await checkBeforeSubmit(deps, input, reviewed, now, log);
      if ("kind" in checked) {
        if (checked.kind === "rejected") await governed.release(holder);
        return checked;
      }
      libraryFiles = checked.checks;
    }
    const withChecks = libraryFiles ? { libraryFiles } : {};
    if (deps.records && recordKnown(record) && !(await markInFlight(deps.records, holder, record, now(), log))) {
      // Another dispatch of this submission got there first: the next attempt looks it up before posting.
      return { kind: "throttled", retryAfterInMs: CONCURRENT_DISPATCH_WAIT_IN_MS };
    }
    try {
      const action = await deps.mde.runLiveResponse(input.machineId, { commands: input.commands, comment: input.comment });
      log.info("live response submitted", { actionId: action.id, status: action.status });
      await resolveRecord(deps, holder, "submitted", log, action.id);
      await watchAccepted(deps, input, action, now(), log);
      return { kind: "submitted", action, reused: false, ...withChecks };
    } catch (e) {
      if (e instanceof MdeApiError && e.code === "ActiveRequestAlreadyExists") {
        // The device's one session may be ours (an earlier POST whose answer was lost): look it up.
        const ours = await findOwnAction(deps.mde, input, log, governed);
        if (ours && !("kind" in ours)) return reuse(ours);
        log.warn("device busy with another live response session", { code: e.code, target: e.target });
        // Not ours: the slot goes back until the device is free. A throttled lookup is decided next attempt.
        if (ours === undefined) {
          await resolveRecord(deps, holder, "deviceBusy", log);
          await governed.release(holder);
        }
        return { kind: "deviceBusy", message: publicMessage(e.message) };
      }
      const outcome = expectedMdeFailure(e);
      if (!outcome) throw e;
      log.warn("live response not submitted", {
        outcome: outcome.kind,
        code: outcome.kind === "rejected" ? outcome.code : "TooManyRequests",
      });
      // A 429 or a refusal: MDE created nothing.
      await resolveRecord(deps, holder, outcome.kind, log);
      if (outcome.kind === "throttled") await governed.afterError("runLiveResponse", e);
      else await governed.release(holder);
      return outcome.kind === "rejected" ? { ...outcome, ...withChecks } : outcome;
    }
  });
}

/** How long a submission waits when another dispatch of it marked the record first (it then looks up). */
const CONCURRENT_DISPATCH_WAIT_IN_MS = 30_000;

/** False for the stand-in `inFlight` of {@link readRecord}: there is no version to write against. */
function recordKnown(read: SubmissionRead): boolean {
  return read.state === "none" || read.etag !== "";
}

/** The record, or `inFlight` (look up first: the old, safe behaviour) when there are none or storage fails. */
async function readRecord(records: SubmissionRecords | undefined, instanceId: string, log: Logger): Promise<SubmissionRead> {
  if (!records) return { state: "inFlight", etag: "" };
  try {
    return await records.read(instanceId);
  } catch (e) {
    log.warn("submission record unreadable; looking up earlier attempts", { reason: publicMessage(describeFailure(e)) });
    return { state: "inFlight", etag: "" };
  }
}

/** @returns false when another dispatch changed the record since it was read */
async function markInFlight(records: SubmissionRecords, instanceId: string, read: SubmissionRead, at: Date, log: Logger): Promise<boolean> {
  const marked = await records.markInFlight(instanceId, read, at);
  if (!marked) log.warn("submission record changed by another dispatch; looking up before posting", { instanceId });
  return marked;
}

/** A definitive answer: the next submission of this collection skips the lookup. A failed write only costs that lookup. */
async function resolveRecord(deps: SubmitDeps, instanceId: string, outcome: string, log: Logger, actionId?: string): Promise<void> {
  if (!deps.records) return;
  try {
    await deps.records.markResolved(instanceId, outcome, (deps.now ?? (() => new Date()))(), actionId);
  } catch (e) {
    log.warn("submission record not resolved; the next submission looks up first", { reason: publicMessage(describeFailure(e)) });
  }
}

/**
 * Lists MDE's library once and checks every named file against its reviewed hash.
 * @returns the checks when every file may run; `rejected` (nothing to submit) or `throttled` otherwise
 * @throws what a transient MDE failure throws (5xx, network), for the Durable runtime to retry
 */
async function checkBeforeSubmit(
  deps: SubmitDeps,
  input: SubmitInput,
  reviewed: ReviewedLibraryFile[],
  now: () => Date,
  log: Logger,
): Promise<{ checks: LibraryFileCheck[] } | Rejected | Throttled> {
  if (!deps.mde.listLibraryFiles) {
    return {
      kind: "rejected",
      code: "LibraryUnavailable",
      message: "the MDE client cannot list the live response library, so the library files cannot be checked: nothing was submitted",
      libraryFiles: uncheckedLibraryFiles(input.commands, reviewed),
    };
  }
  let listed;
  try {
    listed = await deps.mde.listLibraryFiles();
  } catch (e) {
    const outcome = expectedMdeFailure(e);
    if (!outcome) throw e;
    log.warn("live response library not listed", {
      outcome: outcome.kind,
      code: outcome.kind === "rejected" ? outcome.code : "TooManyRequests",
    });
    if (outcome.kind === "throttled") return outcome;
    return {
      ...rejectedBy(e as MdeApiError),
      message: publicMessage(
        "MDE refused to list the live response library (GET /api/libraryfiles needs Library.Manage), " +
          `so the library files cannot be checked: nothing was submitted. ${outcome.message}`,
      ),
      libraryFiles: uncheckedLibraryFiles(input.commands, reviewed),
    };
  }
  const result = checkLibraryFiles(input.commands, reviewed, listed, deps.library?.allowUnreviewed === true, now().toISOString());
  for (const check of result.checks) {
    log.info("library file checked", {
      fileName: check.fileName,
      verdict: check.verdict,
      expectedSha256: check.expectedSha256,
      observedSha256: check.observedSha256,
    });
  }
  if (result.ok) return { checks: result.checks };
  log.warn("live response refused: a library file is not the reviewed one", { code: result.code });
  return { kind: "rejected", code: result.code, message: publicMessage(result.message, 2000), libraryFiles: result.checks };
}

/** The library as it is now, for a reused action; a failure to list is recorded as not checked, never fatal. */
async function observeLibrary(
  deps: SubmitDeps,
  input: SubmitInput,
  reviewed: ReviewedLibraryFile[],
  now: () => Date,
  log: Logger,
): Promise<LibraryFileCheck[]> {
  if (!deps.mde.listLibraryFiles) return uncheckedLibraryFiles(input.commands, reviewed);
  try {
    const listed = await deps.mde.listLibraryFiles();
    return checkLibraryFiles(input.commands, reviewed, listed, deps.library?.allowUnreviewed === true, now().toISOString()).checks;
  } catch (e) {
    log.warn("live response library not listed for a reused action", { reason: publicMessage(describeFailure(e)) });
    return uncheckedLibraryFiles(input.commands, reviewed);
  }
}

/** A watched collection's accepted action goes on the watch list, so its first look is the poller's copy. */
async function watchAccepted(deps: SubmitDeps, input: SubmitInput, action: MachineAction, now: Date, log: Logger): Promise<void> {
  if (deps.watch && input.watchedBy !== undefined) await putOnWatchList(deps.watch, input.watchedBy, action, now, log);
}
