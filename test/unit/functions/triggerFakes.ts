import { InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { CollectEvidenceInput } from "../../../shared/contract";

/** A DurableClient with just what the starters use; the 404 it throws is the real client's message shape. */
export function fakeDurableClient() {
  const instances = new Map<string, CollectEvidenceInput>();
  const started: { instanceId: string; input: CollectEvidenceInput }[] = [];
  const client = {
    async getStatus(instanceId: string) {
      const input = instances.get(instanceId);
      if (!input) throw new Error("Webhook returned unexpected status code 404");
      return { instanceId, input, runtimeStatus: "Running" };
    },
    async startNew(_name: string, options: { instanceId: string; input: CollectEvidenceInput }) {
      instances.set(options.instanceId, options.input);
      started.push({ instanceId: options.instanceId, input: options.input });
      return options.instanceId;
    },
  };
  return { client: client as unknown as DurableClient, started, instances };
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
