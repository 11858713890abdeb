import type { DurableOrchestrationStatus } from "durable-functions";
import {
  COLLECT_EVIDENCE_ORCHESTRATOR,
  type CollectEvidenceInput,
  type CollectionPolicy,
  type CollectionTrigger,
} from "../shared/contract";
import { reviewedLibraryFiles } from "../shared/library/libraryCheck";
import { deployedLibraryHashes, libraryFilesNamedBy } from "../shared/library/libraryFiles";
import type { LiveResponseCommand } from "../shared/mde/models";
import { renderPlaybook, type PlaceholderValues, type Playbook } from "../shared/playbooks";
import { boundProblems, commentProblem, validateCommands, type FieldProblem } from "../shared/validation";
import type { DurableAccess } from "./durableAccess";

/** What a collection runs: a playbook rendered for its trigger, or commands the webhook already validated. */
export type CollectionCommands =
  | {
      playbook: Playbook;
      values: PlaceholderValues;
      parameters?: Record<string, string>;
      /** The caller's own comment, which outranks the playbook's. */
      comment?: string;
      /** When neither the caller nor the playbook gives a comment. */
      defaultComment: string;
    }
  | { commands: LiveResponseCommand[]; comment: string };

/** One collection a trigger asks for. */
export interface CollectionStart {
  durable: DurableAccess;
  /** Deterministic for an idempotent start; undefined: a new random id (a webhook without an idempotency key). */
  instanceId: string | undefined;
  machineId: string;
  run: CollectionCommands;
  trigger: CollectionTrigger;
  policy: CollectionPolicy;
  /**
   * Accept GetFile paths on network shares and device namespaces (the GETFILE_ALLOW_UNC_PATHS
   * setting: pass `config.allowUncPaths`). @default false: refused
   */
  allowUncPaths?: boolean;
  /**
   * The deployed `library/` folder's SHA-256 by file name: the reviewed hash of a RunScript or PutFile file
   * the playbook pins none for. @default the app's own library/ folder, hashed once per process
   */
  deployedLibrary?: ReadonlyMap<string, string>;
}

export type CollectionStartOutcome =
  | { kind: "started"; instanceId: string; input: CollectEvidenceInput }
  /** `existing` is the input the instance was started with; `input` is what this start asked for. */
  | { kind: "alreadyStarted"; instanceId: string; input: CollectEvidenceInput; existing: CollectEvidenceInput | undefined }
  /** The playbook does not render for this collection: nothing was started. */
  | { kind: "refused"; problems: FieldProblem[] };

/**
 * The one way every trigger starts a collection: renders the playbook for the trigger (or checks
 * the given commands once more), builds the orchestration input and starts `collectEvidence` once
 * per instance id. The commands that reach MDE always passed the same rules here, whoever gave them.
 * @throws what the durable client throws, other than "already exists"
 */
export async function startPlaybookCollection(start: CollectionStart): Promise<CollectionStartOutcome> {
  const run = resolveRun(start.run, start.trigger.kind, { allowUncPaths: start.allowUncPaths === true });
  if (!run.ok) return { kind: "refused", problems: run.problems };
  // The reviewed hash of each library file travels in the input, so the submit activity checks MDE's
  // library against what was reviewed when the collection started, whatever is deployed by then.
  const libraryFiles =
    libraryFilesNamedBy(run.commands).length === 0
      ? undefined
      : reviewedLibraryFiles(
          run.commands,
          "playbook" in start.run ? start.run.playbook.librarySha256 : undefined,
          start.deployedLibrary ?? deployedLibraryHashes(),
        );
  const input: CollectEvidenceInput = {
    request: {
      machineId: start.machineId,
      commands: run.commands,
      comment: run.comment,
      trigger: start.trigger,
      ...(libraryFiles ? { libraryFiles } : {}),
    },
    policy: start.policy,
  };
  const once = await startOnce(start.durable, start.instanceId, input);
  if ("instanceId" in once) return { kind: "started", instanceId: once.instanceId, input };
  return {
    kind: "alreadyStarted",
    instanceId: start.instanceId!,
    input,
    existing: once.existing.input as CollectEvidenceInput | undefined,
  };
}

/** Problems as one log value: `field: message; field: message`. */
export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join("; ");
}

function resolveRun(
  run: CollectionCommands,
  context: CollectionTrigger["kind"],
  options: { allowUncPaths: boolean },
): { ok: true; commands: LiveResponseCommand[]; comment: string } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  let commands: LiveResponseCommand[];
  let comment: string;
  if ("commands" in run) {
    commands = validateCommands(run.commands, (field, message) => problems.push({ field, message }), "commands", options);
    comment = run.comment;
  } else {
    const rendered = renderPlaybook(run.playbook, context, run.values, run.parameters, options);
    if (!rendered.ok) return rendered;
    commands = rendered.value.commands;
    comment = run.comment ?? rendered.value.comment ?? run.defaultComment;
  }
  // Whatever its source (a caller, a playbook, an alert's id in the default), the comment MDE
  // receives never carries the collector's correlation marker or unsafe characters.
  const problem = commentProblem(comment);
  if (problem) problems.push({ field: "comment", message: problem });
  return problems.length > 0 ? { ok: false, problems: boundProblems(problems) } : { ok: true, commands, comment };
}

/**
 * Starts the instance unless it already exists, which is how a retried webhook, a duplicate timer
 * firing and an at-least-once Event Grid redelivery start nothing twice. The status is checked
 * first because Durable restarts a finished instance when `startNew` reuses its id; a concurrent
 * duplicate that slips between the check and the start is refused by Durable (instance exists).
 * @returns the new instance's id, or the status of the instance that already exists
 */
async function startOnce(
  durable: DurableAccess,
  instanceId: string | undefined,
  input: CollectEvidenceInput,
): Promise<{ instanceId: string } | { existing: DurableOrchestrationStatus }> {
  if (instanceId) {
    const existing = await durable.findStatus(instanceId);
    if (existing) return { existing };
  }
  try {
    return { instanceId: await durable.client.startNew(COLLECT_EVIDENCE_ORCHESTRATOR, { instanceId, input }) };
  } catch (e) {
    const existing = instanceId ? await durable.findStatus(instanceId) : undefined;
    if (existing) return { existing };
    throw e;
  }
}
