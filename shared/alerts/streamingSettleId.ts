import { createHash } from "node:crypto";

/**
 * One settle window per MDE alert id, whatever message, batch, partition or redelivery its records
 * came in: `alertsettle-` and 40 hex characters of the SHA-256 of the lowercase id (MDE ids are
 * compared without case, and the hash keeps any id within Durable's instance id rules).
 */
export function settleInstanceId(alertId: string): string {
  return `alertsettle-${createHash("sha256").update(alertId.toLowerCase(), "utf8").digest("hex").slice(0, 40)}`;
}
