import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import { listInstancesInFlight, readInstanceStatus, rpcBaseUrlOf, type InstanceInFlight } from "./instanceStatus";

/** What a trigger uses of Durable Functions during one invocation. */
export interface DurableAccess {
  /** The SDK's client: starts orchestrations, raises events. */
  client: DurableClient;
  /**
   * The instance's status with its input, or undefined when Durable has no such instance.
   * Use this rather than `client.getStatus`, which reports a missing instance only in an error message.
   */
  findStatus(instanceId: string): Promise<DurableOrchestrationStatus | undefined>;
  /**
   * Instances still running (Pending, Running, ContinuedAsNew, Suspended) with their inputs, fetched
   * page by page as the caller iterates: stop early and later pages are never read.
   */
  inFlight(): AsyncIterable<InstanceInFlight>;
}

/** How every trigger with a durable client input gets its {@link DurableAccess} for an invocation. */
export type DurableAccessFactory = (context: InvocationContext) => DurableAccess;

/** The dependency every such trigger takes, so tests hand in a fake or the real client against a stub. */
export interface DurableDeps {
  /** @default hostDurableAccess */
  durable?: DurableAccessFactory;
}

/** From the function's durable client binding: the SDK client, and status reads on the endpoint it calls. */
export const hostDurableAccess: DurableAccessFactory = (context) => ({
  client: df.getClient(context),
  findStatus: (instanceId) => readInstanceStatus(rpcBaseUrlOf(context), instanceId),
  inFlight: () => listInstancesInFlight(rpcBaseUrlOf(context)),
});

/** The access a trigger built with `deps` uses for this invocation. */
export function durableFor(deps: DurableDeps, context: InvocationContext): DurableAccess {
  return (deps.durable ?? hostDurableAccess)(context);
}
