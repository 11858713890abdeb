/**
 * The audit trail: who started, read or cancelled which collection, when and from where, as JSON
 * lines in append blobs of the evidence container, `{prefix}-audit/{instanceId}/{yyyy}/{mm}/{dd}/{hh}.jsonl`
 * (UTC hour of the record). Beside the evidence prefix rather than under it, so a verification of
 * the evidence never takes the trail for a collection. One blob per collection and hour keeps each
 * well under an append blob's 50,000 blocks even for a caller polling the status every second.
 * Append blobs only grow: the collector never rewrites or deletes a record (on a WORM container the
 * policy's allowProtectedAppendWrites lets them grow and nothing else).
 * https://learn.microsoft.com/rest/api/storageservices/append-block
 */
import type { ContainerClient } from "@azure/storage-blob";
import type { VerifiedCaller } from "../auth/caller";

export type AuditAction = "start" | "read" | "cancel";

/** One line of the trail. Never holds a token, a SAS signature or a request body. */
export interface AuditRecord {
  schema: "mde-live-response-audit/v1";
  /** When the collector handled the request (ISO 8601, the collector's clock). */
  at: string;
  action: AuditAction;
  instanceId: string;
  /** The verified caller (never a name the caller typed). */
  caller: { kind: VerifiedCaller["kind"]; objectId: string; name: string; applicationId?: string; tenantId?: string };
  /** The client's address as the platform's front end reported it (first X-Forwarded-For entry), when it did. */
  clientIp?: string;
  /** The Functions invocation that handled the request. */
  invocationId: string;
  /** start: the idempotency key that named the instance; cancel: the reason given. Bounded. */
  detail?: string;
}

/** Appends records; a failure is thrown to the caller, which decides (see the HTTP functions). */
export interface AuditTrail {
  append(record: AuditRecord): Promise<void>;
}

const MAX_TEXT = 200;

/** Text safe for one JSON line an examiner reads: no control or format characters, bounded. */
function bounded(text: string | undefined, max = MAX_TEXT): string | undefined {
  if (text === undefined) return undefined;
  const clean = text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * The first X-Forwarded-For address (App Service and Flex Consumption set it), without a port;
 * undefined when it is not an IPv4 or IPv6 address.
 */
export function clientIpOf(forwardedFor: string | null | undefined): string | undefined {
  const first = (forwardedFor ?? "").split(",")[0]!.trim();
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/.exec(first);
  if (v4) return v4[1];
  const bracketed = /^\[([0-9a-fA-F:.]{2,45})\](?::\d{1,5})?$/.exec(first);
  if (bracketed) return bracketed[1];
  return /^[0-9a-fA-F:.]{2,45}$/.test(first) && first.includes(":") ? first : undefined;
}

/** The record of one request by a verified caller. */
export function auditRecordOf(input: {
  action: AuditAction;
  instanceId: string;
  caller: VerifiedCaller;
  headers: { get(name: string): string | null };
  invocationId: string;
  at: Date;
  detail?: string;
}): AuditRecord {
  const { caller } = input;
  const record: AuditRecord = {
    schema: "mde-live-response-audit/v1",
    at: input.at.toISOString(),
    action: input.action,
    instanceId: input.instanceId,
    caller: {
      kind: caller.kind,
      objectId: bounded(caller.objectId, 64)!,
      name: bounded(caller.name)!,
      ...(caller.applicationId ? { applicationId: bounded(caller.applicationId, 64) } : {}),
      ...(caller.tenantId ? { tenantId: bounded(caller.tenantId, 64) } : {}),
    },
    invocationId: bounded(input.invocationId, 64)!,
  };
  const clientIp = clientIpOf(input.headers.get("x-forwarded-for"));
  if (clientIp) record.clientIp = clientIp;
  const detail = bounded(input.detail);
  if (detail) record.detail = detail;
  return record;
}

/** `{prefix}-audit/{instanceId}/`: the folder of one collection's records. */
export function auditFolderOf(prefix: string, instanceId: string): string {
  const root =
    prefix
      .split("/")
      .filter((s) => s.length > 0)
      .join("/") || "liveresponse";
  return `${root}-audit/${instanceId}/`;
}

/** The append blob a record at `at` goes to. */
export function auditBlobName(prefix: string, instanceId: string, at: Date): string {
  const iso = at.toISOString();
  return `${auditFolderOf(prefix, instanceId)}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}.jsonl`;
}

/** The trail over the evidence container. */
export function blobAuditTrail(container: ContainerClient, prefix: string): AuditTrail {
  return {
    async append(record) {
      const blob = container.getAppendBlobClient(auditBlobName(prefix, record.instanceId, new Date(record.at)));
      const line = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
      // createIfNotExists is conditional (If-None-Match: *): it never truncates a trail already there.
      await blob.createIfNotExists({
        blobHTTPHeaders: { blobContentType: "application/x-ndjson; charset=utf-8" },
        metadata: { kind: "audit", instanceid: record.instanceId },
      });
      await blob.appendBlock(line, line.length);
    },
  };
}

/** Every record of one collection, oldest first; lines that are not records are returned as problems. */
export async function readAuditRecords(
  container: ContainerClient,
  prefix: string,
  instanceId: string,
): Promise<{ records: AuditRecord[]; problems: string[] }> {
  const records: AuditRecord[] = [];
  const problems: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix: auditFolderOf(prefix, instanceId) })) {
    const text = (await container.getBlobClient(item.name).downloadToBuffer()).toString("utf8");
    text.split("\n").forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        const parsed = JSON.parse(line) as AuditRecord;
        if (parsed.schema !== "mde-live-response-audit/v1") throw new Error("not an audit record");
        records.push(parsed);
      } catch {
        problems.push(`${item.name} line ${i + 1} is not an audit record`);
      }
    });
  }
  records.sort((a, b) => a.at.localeCompare(b.at));
  return { records, problems };
}
