/**
 * Wire shapes of the Durable extension's HTTP API (HttpApiHandler): binding data, status
 * payloads, query parsing and answers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InstanceQuery, OrchestrationStatus, RuntimeStatus } from "./durableEngine";

/** Binding data of a `durableClient` input, as the extension serializes it for the worker. */
export interface DurableClientBindingData {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: {
    id: string;
    statusQueryGetUri: string;
    sendEventPostUri: string;
    terminatePostUri: string;
    rewindPostUri: string;
    purgeHistoryDeleteUri: string;
    restartPostUri: string;
    suspendPostUri: string;
    resumePostUri: string;
  };
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
}

/** An HTTP answer before it is written. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const RUNTIME_STATUSES: readonly RuntimeStatus[] = ["Pending", "Running", "Completed", "Failed", "Terminated", "Suspended"];

/** The extension's StatusResponsePayload: times at second precision, history as `historyEvents`. */
export function toPayload(status: OrchestrationStatus): Record<string, unknown> {
  const seconds = (iso: string): string => `${iso.slice(0, 19)}Z`;
  const payload: Record<string, unknown> = {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: status.input,
    customStatus: status.customStatus,
    output: status.output,
    createdTime: seconds(status.createdTime),
    lastUpdatedTime: seconds(status.lastUpdatedTime),
  };
  if (status.history) payload.historyEvents = status.history;
  return payload;
}

/** The instance filter of a query/purge request. */
export function parseQuery(url: URL): InstanceQuery {
  const q = url.searchParams;
  const date = (key: string): Date | undefined => {
    const v = q.get(key);
    const d = v ? new Date(v) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
  };
  const statuses = (q.get("runtimeStatus") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s): s is RuntimeStatus => (RUNTIME_STATUSES as readonly string[]).includes(s));
  return {
    runtimeStatus: statuses.length ? statuses : undefined,
    createdTimeFrom: date("createdTimeFrom"),
    createdTimeTo: date("createdTimeTo"),
    instanceIdPrefix: q.get("instanceIdPrefix") ?? undefined,
  };
}

/** The request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes an answer; bodies are JSON, as the extension sends them. */
export function send(res: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = { ...answer.headers };
  let text = "";
  if (answer.body !== undefined) {
    // The extension serializes every body as JSON, plain-text messages included.
    text = JSON.stringify(answer.body);
    headers["Content-Type"] = "application/json; charset=utf-8";
  }
  res.writeHead(answer.status, headers);
  res.end(text);
}
