/**
 * The RFC 3161 client against the project's test TSA (simulator/timestampAuthority.ts) over HTTP on
 * loopback: a granted token is checked and kept whole; every wrong answer is a coded failure value.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pkijs from "pkijs";
import {
  createTimestampClient,
  MAX_TIMESTAMP_RESPONSE_BYTES,
  timestampRequest,
  type TimestampOutcome,
} from "../../../../shared/evidence/timestamp/timestampRequest";
import { parseTimestampResponse, timestampProblems, toArrayBuffer } from "../../../../shared/evidence/timestamp/timestampToken";
import {
  createTimestampAuthority,
  startTimestampAuthorityServer,
  type TimestampAuthority,
  type TimestampAuthorityServer,
} from "../../../../simulator/timestampAuthority";

const DATA = Buffer.from('{"schema":"mde-live-response-evidence-manifest/v1"}\n');
const SHA256 = createHash("sha256").update(DATA).digest("hex");

let authority: TimestampAuthority;
let server: TimestampAuthorityServer;

beforeAll(async () => {
  authority = await createTimestampAuthority({ name: "Unit Test TSA" });
  server = await startTimestampAuthorityServer(authority);
});
afterAll(() => server.close());
beforeEach(() => {
  authority.faults = {};
});

const failure = (outcome: TimestampOutcome) => (outcome.ok ? { ok: true } : { code: outcome.code, message: outcome.message });

describe("timestampRequest", () => {
  it("asks for the SHA-256 digest with the TSA's certificate and a 64-bit nonce", () => {
    const digest = createHash("sha256").update(DATA).digest();
    const nonce = Buffer.from("f1e2d3c4b5a69788", "hex");
    const request = pkijs.TimeStampReq.fromBER(toArrayBuffer(timestampRequest(digest, nonce)));
    expect(request.version).toBe(1);
    expect(request.messageImprint.hashAlgorithm.algorithmId).toBe("2.16.840.1.101.3.4.2.1");
    expect(Buffer.from(request.messageImprint.hashedMessage.valueBlock.valueHexView).toString("hex")).toBe(SHA256);
    expect(request.certReq).toBe(true);
    // A nonce with its top bit set stays positive (DER adds a zero byte).
    expect(request.nonce?.toBigInt()).toBe(BigInt("0xf1e2d3c4b5a69788"));
    expect(() => timestampRequest(Buffer.alloc(20), nonce)).toThrow(RangeError);
  });
});

describe("createTimestampClient", () => {
  it("returns a granted token for the SHA-256 of the bytes, whole, with its time, serial and TSA", async () => {
    const outcome = await createTimestampClient(server.url).timestamp(DATA);
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.facts).toMatchObject({
      imprint: SHA256,
      hashAlgorithm: "2.16.840.1.101.3.4.2.1",
      tsa: "CN=Unit Test TSA",
      signer: { subject: "CN=Unit Test TSA", issuer: "CN=Unit Test TSA CA" },
    });
    expect(Math.abs(Date.parse(outcome.facts.genTime) - Date.now())).toBeLessThan(60_000);
    // The stored bytes are the TSA's answer: they parse again and verify, chained to the TSA's CA.
    const parsed = parseTimestampResponse(outcome.response);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(await timestampProblems(parsed, DATA, { anchors: [authority.caDer] })).toEqual([]);
    expect(await timestampProblems(parsed, Buffer.from("other bytes"), { anchors: [authority.caDer] })).toEqual([
      expect.stringMatching(/^the token is for SHA-256 [0-9a-f]{64}, the bytes' SHA-256 is/),
    ]);
  });

  const openssl = spawnSync("openssl", ["version"]).status === 0;
  (openssl ? it : it.skip)("stores what openssl ts -verify accepts against the TSA's CA", async () => {
    const outcome = await createTimestampClient(server.url).timestamp(DATA);
    if (!outcome.ok) throw new Error(outcome.message);
    const dir = mkdtempSync(path.join(tmpdir(), "tsr-"));
    try {
      writeFileSync(path.join(dir, "manifest.json"), DATA);
      writeFileSync(path.join(dir, "manifest.timestamp.tsr"), outcome.response);
      writeFileSync(path.join(dir, "tsa-ca.pem"), authority.caPem);
      const run = spawnSync(
        "openssl",
        ["ts", "-verify", "-data", "manifest.json", "-in", "manifest.timestamp.tsr", "-CAfile", "tsa-ca.pem"],
        { cwd: dir, encoding: "utf8" },
      );
      expect(`${run.stdout}${run.stderr}`).toMatch(/Verification: OK/);
      writeFileSync(path.join(dir, "manifest.json"), Buffer.concat([DATA, Buffer.from(" ")]));
      const edited = spawnSync(
        "openssl",
        ["ts", "-verify", "-data", "manifest.json", "-in", "manifest.timestamp.tsr", "-CAfile", "tsa-ca.pem"],
        {
          cwd: dir,
          encoding: "utf8",
        },
      );
      expect(`${edited.stdout}${edited.stderr}`).toMatch(/Verification: FAILED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a refusal (PKIStatus rejection) as TsaRejected, with the TSA's words", async () => {
    authority.faults = { status: 2 };
    expect(failure(await createTimestampClient(server.url).timestamp(DATA))).toEqual({
      code: "TsaRejected",
      message: expect.stringContaining("the TSA answered rejection: request refused by the test TSA"),
    });
  });

  it("refuses a token for another digest (TsaWrongImprint) and one with another nonce (TsaWrongNonce)", async () => {
    authority.faults = { wrongImprint: true };
    expect(failure(await createTimestampClient(server.url).timestamp(DATA))).toMatchObject({ code: "TsaWrongImprint" });
    authority.faults = { wrongNonce: true };
    expect(failure(await createTimestampClient(server.url).timestamp(DATA))).toMatchObject({ code: "TsaWrongNonce" });
  });

  it("reads no more than 64 KiB, declared or streamed (TsaResponseTooLarge)", async () => {
    authority.faults = { padToBytes: MAX_TIMESTAMP_RESPONSE_BYTES + 1 };
    expect(failure(await createTimestampClient(server.url).timestamp(DATA))).toMatchObject({ code: "TsaResponseTooLarge" });
    // No Content-Length: the stream is cut at the bound.
    let pulled = 0;
    const endless: typeof fetch = async () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            pulled++;
            controller.enqueue(new Uint8Array(16 * 1024));
          },
        }),
        { status: 200, headers: { "content-type": "application/timestamp-reply" } },
      );
    expect(failure(await createTimestampClient("http://tsa.example/", { fetch: endless }).timestamp(DATA))).toMatchObject({
      code: "TsaResponseTooLarge",
    });
    expect(pulled).toBeLessThan(10);
  });

  it("refuses another content type (TsaWrongContentType), an HTTP error and a redirect (TsaHttpError)", async () => {
    authority.faults = { contentType: "application/octet-stream" };
    expect(failure(await createTimestampClient(server.url).timestamp(DATA))).toMatchObject({ code: "TsaWrongContentType" });
    authority.faults = { httpStatus: 503 };
    expect(failure(await createTimestampClient(server.url).timestamp(DATA))).toEqual({
      code: "TsaHttpError",
      message: `${server.url}: answered HTTP 503`,
    });
    const seen: RequestInit[] = [];
    const redirecting: typeof fetch = async (_url, init) => {
      seen.push(init ?? {});
      return new Response(null, { status: 302, headers: { location: "http://elsewhere.example/" } });
    };
    expect(failure(await createTimestampClient("http://tsa.example/", { fetch: redirecting }).timestamp(DATA))).toMatchObject({
      code: "TsaHttpError",
    });
    expect(seen).toEqual([expect.objectContaining({ method: "POST", redirect: "manual" })]);
    expect(seen[0].headers).toMatchObject({ "content-type": "application/timestamp-query" });
  });

  it("gives up after the timeout, and reports a closed port, as TsaUnreachable", async () => {
    const hanging: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    expect(failure(await createTimestampClient("http://tsa.example/", { fetch: hanging, timeoutInMs: 50 }).timestamp(DATA))).toEqual({
      code: "TsaUnreachable",
      message: "http://tsa.example/: no answer within 0.05 s",
    });
    const closed = await startTimestampAuthorityServer(authority);
    await closed.close();
    expect(failure(await createTimestampClient(closed.url).timestamp(DATA))).toMatchObject({ code: "TsaUnreachable" });
  });

  it("refuses bytes that are not a TimeStampResp, and a token whose signature does not verify (TsaBadResponse)", async () => {
    const garbage: typeof fetch = async () =>
      new Response("not DER", { status: 200, headers: { "content-type": "application/timestamp-reply" } });
    expect(failure(await createTimestampClient("http://tsa.example/", { fetch: garbage }).timestamp(DATA))).toMatchObject({
      code: "TsaBadResponse",
    });
    // A genuine answer with one byte of the signature flipped.
    const tampering: typeof fetch = async (_url, init) => {
      const answer = await authority.respond(Buffer.from(init?.body as Uint8Array));
      const signedAt = answer.length - 20;
      answer[signedAt] ^= 0xff;
      return new Response(answer, { status: 200, headers: { "content-type": "application/timestamp-reply" } });
    };
    expect(failure(await createTimestampClient("http://tsa.example/", { fetch: tampering }).timestamp(DATA))).toMatchObject({
      code: "TsaBadResponse",
      message: expect.stringContaining("signature"),
    });
  });
});

describe("timestampProblems with trust anchors", () => {
  it("accepts a token chained to the given CA, refuses one chained to another CA, and one without the timeStamping usage", async () => {
    const good = parseTimestampResponse(await authority.timestamp(DATA));
    if (!good.ok) throw new Error(good.message);
    expect(await timestampProblems(good, DATA, { anchors: [authority.caDer] })).toEqual([]);
    // No anchors: the signature is checked with the certificate the token carries, nothing more.
    expect(await timestampProblems(good, DATA)).toEqual([]);

    const stranger = await createTimestampAuthority({ name: "Stranger TSA" });
    expect(await timestampProblems(good, DATA, { anchors: [stranger.caDer] })).toEqual([
      expect.stringContaining("Validation of signer's certificate failed"),
    ]);

    const noUsage = await createTimestampAuthority({ name: "Not A TSA", withoutTimeStampingUsage: true });
    const token = parseTimestampResponse(await noUsage.timestamp(DATA));
    if (!token.ok) throw new Error(token.message);
    expect(await timestampProblems(token, DATA, { anchors: [noUsage.caDer] })).toEqual([
      "the signer certificate lacks the timeStamping extended key usage",
    ]);
  });

  it("refuses a token whose signing-certificate attribute names another certificate", async () => {
    const other = await createTimestampAuthority({ name: "Other TSA" });
    const parsed = parseTimestampResponse(await authority.timestamp(DATA));
    if (!parsed.ok) throw new Error(parsed.message);
    // The signer's certificate swapped for another TSA's: neither the signature nor the ESS binding holds.
    const swapped = pkijs.Certificate.fromBER(toArrayBuffer(other.tsaCertificateDer));
    parsed.signedData.certificates = [swapped];
    const problems = await timestampProblems({ ...parsed, signerCertificate: swapped }, DATA);
    expect(problems).toEqual(
      expect.arrayContaining(["the signing-certificate attribute names another certificate than the one that signed"]),
    );
  });
});
