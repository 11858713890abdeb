import { uncheckedLibraryFiles } from "../library/libraryCheck";
import { libraryFilesNamedBy } from "../library/libraryFiles";
import type {
  AlertFileHashCheck,
  CancelRequest,
  CollectionOutcome,
  CollectionTrigger,
  EvidenceRecord,
  LibraryFileCheck,
  Manifest,
  ManifestCommand,
  ReviewedLibraryFile,
} from "../contract";
import type { MachineAction } from "../mde/models";

export interface ManifestInput {
  instanceId: string;
  trigger: CollectionTrigger;
  request: Manifest["request"];
  outcome: CollectionOutcome;
  outcomeReason: string;
  startedAt: string;
  finishedAt: string;
  cancellation?: CancelRequest;
  action: MachineAction | undefined;
  collected: EvidenceRecord[];
  collectionErrors: { index: number; code: string; message: string }[];
  /** The request's reviewed library hashes (CollectionRequest.libraryFiles). */
  reviewedLibraryFiles?: ReviewedLibraryFile[];
  /** The library check of the last submission that reached it (CollectionProgress.libraryFiles). */
  libraryFiles?: LibraryFileCheck[];
}

/** Commands whose result MDE lets us download (PutFile has none). */
export function producesResult(type: string): boolean {
  return type === "RunScript" || type === "GetFile";
}

/** Pure: the same input always gives the same manifest (it is built inside the orchestrator). */
export function buildManifest(input: ManifestInput): Manifest {
  const states = input.action?.commands ?? [];
  const commands: ManifestCommand[] = input.request.commands.map((command, index) => {
    const state = states.find((s) => s.index === index);
    const record = input.collected.find((r) => r.index === index);
    const error = input.collectionErrors.find((e) => e.index === index);
    const status = state?.commandStatus ?? "NotSubmitted";
    const entry: ManifestCommand = {
      index,
      type: command.type,
      params: command.params,
      status,
      executed: status === "Completed" || status === "Failed",
      errors: state?.errors ?? [],
      startTime: state?.startTime ?? null,
      endTime: state?.endTime ?? null,
    };
    if (record) {
      const { index: _i, type: _t, transcript, transcriptError, created: _c, ...evidence } = record;
      entry.evidence = evidence;
      if (transcript) entry.transcript = transcript;
      if (transcriptError) entry.transcriptError = transcriptError;
    } else if (error) {
      entry.collectionError = { code: error.code, message: error.message };
    }
    return entry;
  });
  const alertFileHashes = alertFileHashCheck(input.trigger, input.collected);
  // Every RunScript and PutFile file is on record: as checked before submission, or as expected when no submission got that far.
  const libraryFiles =
    libraryFilesNamedBy(input.request.commands).length === 0
      ? undefined
      : (input.libraryFiles ?? uncheckedLibraryFiles(input.request.commands, input.reviewedLibraryFiles));
  const complete = commands.every((c) => !producesResult(c.type) || c.status !== "Completed" || c.evidence !== undefined);
  return {
    schema: "mde-live-response-evidence-manifest/v1",
    instanceId: input.instanceId,
    trigger: input.trigger,
    request: input.request,
    outcome: input.outcome,
    outcomeReason: input.outcomeReason,
    complete,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    ...(input.cancellation ? { cancellation: input.cancellation } : {}),
    machineAction: input.action ?? null,
    commands,
    ...(alertFileHashes ? { alertFileHashes } : {}),
    ...(libraryFiles ? { libraryFiles } : {}),
  };
}

/**
 * Compares each collected GetFile result with the SHA-256 the alert named: the decompressed
 * SHA-256 when MDE delivered the file gzipped (the file itself), else the SHA-256 of the bytes as
 * stored. Pure (the manifest and the status are built in the orchestrator).
 * @returns undefined unless an alert started the collection and named at least one hash
 */
export function alertFileHashCheck(trigger: CollectionTrigger, collected: EvidenceRecord[]): AlertFileHashCheck | undefined {
  if (trigger.kind !== "alert" || !trigger.expectedSha256 || trigger.expectedSha256.length === 0) return undefined;
  const expected = trigger.expectedSha256;
  const results = collected
    .filter((r) => r.type === "GetFile")
    .sort((a, b) => a.index - b.index)
    .map((r) => {
      const decompressed = r.decompressed && "sha256" in r.decompressed ? r.decompressed.sha256 : undefined;
      const sha256 = decompressed ?? r.sha256;
      return {
        index: r.index,
        sha256,
        compared: decompressed ? ("decompressed" as const) : ("raw" as const),
        match: expected.includes(sha256),
      };
    });
  return { expected, results, matched: results.some((r) => r.match) };
}
