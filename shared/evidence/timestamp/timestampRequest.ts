/**
 * The collector's RFC 3161 client (https://www.rfc-editor.org/rfc/rfc3161): asks a time-stamp
 * authority (TSA) to sign the SHA-256 of some bytes at the time it sees them, over HTTP (section
 * 3.4: a DER TimeStampReq POSTed as `application/timestamp-query`, a DER TimeStampResp answered as
 * `application/timestamp-reply`). The answer is checked before anyone stores it: granted, for our
 * digest, with our nonce, and signed by the certificate it carries. Every failure is a value with a
 * code, never a throw: a TSA outage must not fail what is being timestamped.
 */
import { createHash, randomBytes } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { redactUrl } from "../../errors";
import { parseTimestampResponse, TIMESTAMP_OIDS, timestampProblems, toArrayBuffer, type TimestampFacts } from "./timestampToken";

/** How long one TSA call may take, connection included. */
export const TIMESTAMP_TIMEOUT_MS = 10_000;
/** A TimeStampResp with its certificate is a few KiB; anything past this is not one and is not read. */
export const MAX_TIMESTAMP_RESPONSE_BYTES = 64 * 1024;

/** Why no token came back, one code per kind of failure. */
export type TimestampFailureCode =
  /** No answer: network error, timeout. */
  | "TsaUnreachable"
  /** An HTTP status other than 200 (redirects included: they are not followed). */
  | "TsaHttpError"
  | "TsaWrongContentType"
  | "TsaResponseTooLarge"
  /** PKIStatus other than granted or grantedWithMods. */
  | "TsaRejected"
  /** Not a TimeStampResp, no token, or a token whose signature does not verify. */
  | "TsaBadResponse"
  /** A token for another digest or another hash algorithm. */
  | "TsaWrongImprint"
  /** A token with another nonce than ours (a replayed or misrouted answer). */
  | "TsaWrongNonce";

export type TimestampOutcome =
  | { ok: true; /** The whole DER TimeStampResp, as `openssl ts -verify -in` reads it. */ response: Buffer; facts: TimestampFacts }
  | { ok: false; code: TimestampFailureCode; message: string };

/** A configured TSA. */
export interface TimestampAuthorityClient {
  /** The TSA's URL for logs (no query string). */
  readonly url: string;
  /** A checked token for the SHA-256 of `data`. */
  timestamp(data: Buffer): Promise<TimestampOutcome>;
}

export interface TimestampClientOptions {
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** @default TIMESTAMP_TIMEOUT_MS */
  timeoutInMs?: number;
  /** @default MAX_TIMESTAMP_RESPONSE_BYTES */
  maxResponseBytes?: number;
}

/**
 * A DER TimeStampReq (version 1) for a SHA-256 digest: certReq true, so the token carries the TSA's
 * certificate and can be checked on its own; and a 64-bit nonce, so an answer is tied to this request.
 */
export function timestampRequest(digest: Buffer, nonce: Buffer): Buffer {
  if (digest.length !== 32) throw new RangeError(`a SHA-256 digest has 32 bytes, got ${digest.length}`);
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: TIMESTAMP_OIDS.sha256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(digest) }),
    }),
    nonce: asn1js.Integer.fromBigInt(BigInt(`0x${nonce.toString("hex")}`)),
    certReq: true,
  });
  return Buffer.from(request.toSchema().toBER(false));
}

/** The client for one TSA URL (validated by the settings: http(s), no credentials, no query). */
export function createTimestampClient(url: string, options: TimestampClientOptions = {}): TimestampAuthorityClient {
  const fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutInMs = options.timeoutInMs ?? TIMESTAMP_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? MAX_TIMESTAMP_RESPONSE_BYTES;
  const shown = redactUrl(url);
  const fail = (code: TimestampFailureCode, message: string): TimestampOutcome => ({ ok: false, code, message: `${shown}: ${message}` });

  return {
    url: shown,
    async timestamp(data) {
      const digest = createHash("sha256").update(data).digest();
      const nonce = randomBytes(8);
      let response: Response;
      const signal = AbortSignal.timeout(timeoutInMs);
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
          body: timestampRequest(digest, nonce),
          redirect: "manual",
          signal,
        });
      } catch (e) {
        return fail("TsaUnreachable", signal.aborted ? `no answer within ${timeoutInMs / 1000} s` : `request failed (${causeOf(e)})`);
      }
      const contentType = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (response.status !== 200 || contentType !== "application/timestamp-reply") {
        await response.body?.cancel().catch(() => undefined);
        if (response.status !== 200) return fail("TsaHttpError", `answered HTTP ${response.status}`);
        return fail("TsaWrongContentType", `answered ${JSON.stringify(contentType.slice(0, 80))}, not application/timestamp-reply`);
      }
      const body = await readBounded(response, maxBytes, signal);
      if (body === "tooLarge") return fail("TsaResponseTooLarge", `answer larger than ${maxBytes} bytes`);
      if (body === "failed")
        return fail("TsaUnreachable", signal.aborted ? `no answer within ${timeoutInMs / 1000} s` : "the answer broke off");

      const parsed = parseTimestampResponse(body);
      if (!parsed.ok) return fail(parsed.code, parsed.message);
      const { facts } = parsed;
      if (facts.hashAlgorithm !== TIMESTAMP_OIDS.sha256 || facts.imprint !== digest.toString("hex"))
        return fail("TsaWrongImprint", `the token is for ${facts.imprint} (${facts.hashAlgorithm}), not the SHA-256 asked for`);
      if (facts.nonce === undefined || BigInt(`0x${facts.nonce}`) !== BigInt(`0x${nonce.toString("hex")}`))
        return fail("TsaWrongNonce", "the token does not carry the request's nonce");
      const problems = await timestampProblems(parsed, data);
      if (problems.length > 0) return fail("TsaBadResponse", problems.join("; "));
      return { ok: true, response: body, facts };
    },
  };
}

/** The body, read up to `maxBytes` (the declared length is checked first); a stream that breaks or runs over is not kept. */
async function readBounded(response: Response, maxBytes: number, signal: AbortSignal): Promise<Buffer | "tooLarge" | "failed"> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return "tooLarge";
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new Error("timed out");
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return "tooLarge";
      }
      chunks.push(value);
    }
  } catch {
    return "failed";
  }
  return Buffer.concat(chunks);
}

/** A network error's own words (undici puts them in `cause`), without any URL query. */
function causeOf(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String((cause as { code: unknown }).code) : undefined;
  return (code ?? (cause instanceof Error ? cause.message : String(cause))).replace(/\?\S*/g, "").slice(0, 120);
}
