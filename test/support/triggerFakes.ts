import { InvocationContext } from "@azure/functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { DurableAccess } from "../../functions/durableAccess";
import type { InstanceInFlight } from "../../functions/instanceStatus";
import type { CollectEvidenceInput } from "../../shared/contract";

/**
 * A {@link DurableAccess} with just what the starters use, keeping what it started. A missing
 * instance is undefined, as the real `findStatus` answers the extension's 404.
 * Every instance it started counts as in flight, after `options.inFlight` (instances started elsewhere).
 * @param options.startNew - replaces the start (e.g. to throw as Durable does for a concurrent duplicate)
 */
export function fakeDurableAccess(
  options: {
    startNew?: (instanceId: string | undefined, input: CollectEvidenceInput) => Promise<string>;
    inFlight?: InstanceInFlight[];
  } = {},
) {
  const instances = new Map<string, CollectEvidenceInput>();
  const started: { instanceId: string; input: CollectEvidenceInput }[] = [];
  const lookups: string[] = [];
  const store = (instanceId: string, input: CollectEvidenceInput) => {
    instances.set(instanceId, input);
    started.push({ instanceId, input });
    return instanceId;
  };
  const client = {
    async startNew(_name: string, o: { instanceId?: string; input: CollectEvidenceInput }) {
      if (options.startNew) return options.startNew(o.instanceId, o.input);
      return store(o.instanceId ?? `generated-${started.length + 1}`, o.input);
    },
    async raiseEvent() {},
  };
  const access: DurableAccess = {
    client: client as unknown as DurableClient,
    async findStatus(instanceId: string) {
      lookups.push(instanceId);
      const input = instances.get(instanceId);
      return input ? ({ instanceId, input, runtimeStatus: "Running" } as unknown as DurableOrchestrationStatus) : undefined;
    },
    async *inFlight() {
      yield* options.inFlight ?? [];
      for (const [instanceId, input] of instances) yield { instanceId, input };
    },
  };
  return { access, started, instances, lookups, store };
}

/** An InvocationContext whose log lines are kept, parsed as the JSON the app writes. */
export function capturingContext(functionName: string) {
  const lines: Record<string, unknown>[] = [];
  const context = new InvocationContext({
    functionName,
    logHandler: (_level, ...args) => {
      lines.push(JSON.parse(String(args[0])) as Record<string, unknown>);
    },
  });
  return { context, lines };
}
