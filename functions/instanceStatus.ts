import type { InvocationContext } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import { CollectorError } from "../shared/errors";

/**
 * Where the Durable extension serves its HTTP API to this worker: the `rpcBaseUrl` of the durable
 * client binding data, the same loopback endpoint `DurableClient` calls.
 * @throws CollectorError `DurableClientBindingMissing` when the function has no durable client input, or
 *   the extension's local RPC endpoint is off (`extensions.durableTask.localRpcEndpointEnabled: false` in host.json)
 */
export function rpcBaseUrlOf(context: InvocationContext): string {
  const input = context.options.extraInputs.find((i) => i.type === "durableClient" || i.type === "orchestrationClient");
  const data: unknown = input ? context.extraInputs.get(input) : undefined;
  const rpcBaseUrl = typeof data === "object" && data !== null ? (data as { rpcBaseUrl?: unknown }).rpcBaseUrl : undefined;
  if (typeof rpcBaseUrl !== "string") {
    throw new CollectorError(
      "DurableClientBindingMissing",
      `Function ${context.functionName} has no durable client binding with an rpcBaseUrl: register it with ` +
        "extraInputs: [df.input.durableClient()] and keep the Durable extension's local RPC endpoint on.",
    );
  }
  return rpcBaseUrl;
}

/**
 * One orchestration's status with its input, or undefined when Durable has no such instance.
 *
 * This is the request `DurableClient.getStatus` makes (`GET instances/{id}?showInput=true`), read
 * here for its status code: the extension answers 404 for an unknown instance
 * (https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-http-api#get-instance-status),
 * but durable-functions 3.5 turns that 404 into a plain `Error` whose message is its only trace (no
 * status, no error class), and none of its other calls tells "no such instance" apart without side
 * effects (`purgeInstanceHistory` answers 0 for it, but deletes a finished instance).
 * @param rpcBaseUrl - from {@link rpcBaseUrlOf}
 * @throws CollectorError `DurableStatusFailed` for any other answer, `DurableStatusInvalid` for a body that is not a status
 */
export async function readInstanceStatus(rpcBaseUrl: string, instanceId: string): Promise<DurableOrchestrationStatus | undefined> {
  const response = await fetch(new URL(`instances/${encodeURIComponent(instanceId)}?showInput=true`, rpcBaseUrl));
  if (response.status === 404) return undefined;
  const text = await response.text();
  // 400 carries the status of a failed or terminated instance, as the client reads it.
  if (![200, 202, 400].includes(response.status)) {
    throw new CollectorError(
      "DurableStatusFailed",
      `The Durable extension answered ${response.status} to a status query for ${instanceId}: ${text.slice(0, 300)}`,
    );
  }
  return toStatus(text, instanceId);
}

/** The body as the client's DurableOrchestrationStatus: the same required fields, times as Dates. */
function toStatus(text: string, instanceId: string): DurableOrchestrationStatus {
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const isTime = (v: unknown) => typeof v === "string" && !Number.isNaN(Date.parse(v));
  if (
    !body ||
    typeof body.name !== "string" ||
    typeof body.instanceId !== "string" ||
    typeof body.runtimeStatus !== "string" ||
    !isTime(body.createdTime) ||
    !isTime(body.lastUpdatedTime) ||
    body.input === undefined ||
    body.output === undefined
  ) {
    throw new CollectorError(
      "DurableStatusInvalid",
      `The Durable extension's status of ${instanceId} lacks name, instanceId, runtimeStatus, times, input or output.`,
    );
  }
  return {
    name: body.name,
    instanceId: body.instanceId,
    createdTime: new Date(body.createdTime as string),
    lastUpdatedTime: new Date(body.lastUpdatedTime as string),
    input: body.input,
    output: body.output,
    runtimeStatus: body.runtimeStatus as DurableOrchestrationStatus["runtimeStatus"],
    customStatus: body.customStatus,
  };
}

/** One instance that is still running, as the collector needs it to count work in flight. */
export interface InstanceInFlight {
  instanceId: string;
  /** The orchestrator's name, when the query says (the Durable HTTP API's `name`). */
  name?: string;
  /** The orchestration's input (`CollectEvidenceInput`), as Durable stored it. */
  input: unknown;
}

/**
 * Runtime statuses of an instance that still holds (or waits for) a device's live response session.
 * `ContinuedAsNew` is what some storage providers report between two executions.
 */
export const IN_FLIGHT_RUNTIME_STATUSES = ["Pending", "Running", "ContinuedAsNew", "Suspended"] as const;

/** Instances a page of the query holds; Durable follows with `x-ms-continuation-token`. */
const IN_FLIGHT_PAGE_SIZE = 100;

/**
 * Every instance in flight with its input, page by page, from the Durable extension's instance query
 * (`GET instances/?runtimeStatus=...&showInput=true&top=N`, continued with the
 * `x-ms-continuation-token` header it answers):
 * https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-http-api#get-all-instances-status
 * The caller stops iterating once it has counted enough, so a page is fetched only when needed.
 * @param rpcBaseUrl - from {@link rpcBaseUrlOf}
 * @throws CollectorError `DurableQueryFailed` for an answer other than 200 or a body that is not a list
 */
export async function* listInstancesInFlight(rpcBaseUrl: string): AsyncGenerator<InstanceInFlight> {
  const url = new URL("instances/", rpcBaseUrl);
  url.searchParams.set("runtimeStatus", IN_FLIGHT_RUNTIME_STATUSES.join(","));
  url.searchParams.set("showInput", "true");
  url.searchParams.set("top", String(IN_FLIGHT_PAGE_SIZE));
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const response = await fetch(url, token ? { headers: { "x-ms-continuation-token": token } } : {});
    const text = await response.text();
    let page: unknown;
    try {
      page = response.status === 200 ? JSON.parse(text) : undefined;
    } catch {
      page = undefined;
    }
    if (!Array.isArray(page)) {
      throw new CollectorError(
        "DurableQueryFailed",
        `The Durable extension answered ${response.status} to the query of instances in flight: ${text.slice(0, 300)}`,
      );
    }
    for (const item of page as unknown[]) {
      if (typeof item !== "object" || item === null || typeof (item as { instanceId?: unknown }).instanceId !== "string") continue;
      const { instanceId, input, name } = item as { instanceId: string; input?: unknown; name?: unknown };
      yield { instanceId, input, ...(typeof name === "string" ? { name } : {}) };
    }
    // The extension sends the header on every page, empty (or "null") on the last one.
    const next = response.headers.get("x-ms-continuation-token") ?? "";
    token = next && next !== "null" && !seen.has(next) ? next : undefined;
    if (token) seen.add(token);
  } while (token);
}
