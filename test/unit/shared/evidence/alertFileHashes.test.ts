import type { CollectionPolicy, CollectionRequest, CollectionTrigger, EvidenceRecord } from "../../../../shared/contract";
import { buildManifest } from "../../../../shared/evidence/manifest";
import { buildStatus, newProgress } from "../../../../orchestrators/progress";
import { expectedHashesOf } from "../../../../functions/alertStart";

const FILE_SHA = "a".repeat(64);
const PLAIN_SHA = "b".repeat(64);
const OTHER_SHA = "c".repeat(64);

const alertTrigger = (expectedSha256?: string[]): CollectionTrigger => ({
  kind: "alert",
  alertId: "da1",
  source: "mde",
  playbook: "alert-file",
  rule: "r",
  ...(expectedSha256 ? { expectedSha256 } : {}),
});

const commands = [
  { type: "GetFile" as const, params: [{ key: "Path", value: "C:\\temp\\a.exe" }] },
  { type: "GetFile" as const, params: [{ key: "Path", value: "C:\\temp\\b.exe" }] },
];

const record = (index: number, over: Partial<EvidenceRecord>): EvidenceRecord => ({
  index,
  type: "GetFile",
  blobName: `p/m/act/${index}`,
  blobUrl: `http://x/p/m/act/${index}`,
  size: 3,
  sha256: OTHER_SHA,
  md5: "x",
  contentFormat: "raw",
  committedAt: "2026-01-01T00:00:00Z",
  created: true,
  linkFetches: 1,
  ...over,
});

// a.exe arrived gzipped: its decompressed SHA-256 is the file's; b.exe raw: its stored SHA-256 is.
const collected = [record(0, { contentFormat: "gzip", decompressed: { size: 10, sha256: FILE_SHA } }), record(1, { sha256: PLAIN_SHA })];

function manifestFor(trigger: CollectionTrigger, records = collected) {
  return buildManifest({
    instanceId: "i",
    trigger,
    request: { machineId: "m", comment: "c", commands },
    outcome: "Completed",
    outcomeReason: "r",
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:01:00Z",
    action: undefined,
    collected: records,
    collectionErrors: [],
  });
}

describe("alert file hashes in the manifest and the status", () => {
  it("records a match when a collected file's decompressed SHA-256 is the alert's, and a mismatch for the other", () => {
    expect(manifestFor(alertTrigger([FILE_SHA])).alertFileHashes).toEqual({
      expected: [FILE_SHA],
      results: [
        { index: 0, sha256: FILE_SHA, compared: "decompressed", match: true },
        { index: 1, sha256: PLAIN_SHA, compared: "raw", match: false },
      ],
      matched: true,
    });
  });

  it("compares the raw SHA-256 of a file MDE delivered as is", () => {
    expect(manifestFor(alertTrigger([PLAIN_SHA])).alertFileHashes?.results[1]).toEqual({
      index: 1,
      sha256: PLAIN_SHA,
      compared: "raw",
      match: true,
    });
  });

  it("records the mismatch when no collected file is the alert's", () => {
    expect(manifestFor(alertTrigger([OTHER_SHA.replace(/c/g, "d")])).alertFileHashes).toMatchObject({ matched: false });
  });

  it("says nothing for collections without expected hashes (webhook, older alert instances)", () => {
    expect(manifestFor(alertTrigger()).alertFileHashes).toBeUndefined();
    expect(manifestFor({ kind: "webhook", receivedAt: "2026-01-01T00:00:00Z" }).alertFileHashes).toBeUndefined();
  });

  it("shows the comparison in the status as results come in", () => {
    const request: CollectionRequest = { machineId: "m", comment: "c", commands, trigger: alertTrigger([FILE_SHA]) };
    const policy: CollectionPolicy = {
      deadline: "2026-01-02T00:00:00Z",
      pollInitialDelayInMs: 1,
      pollMaxDelayInMs: 1,
      busyRetryDelayInMs: 1,
      throttleDelayInMs: 1,
    };
    const progress = { ...newProgress(new Date("2026-01-01T00:00:00Z")), collected: [collected[1]!] };
    expect(buildStatus(request, policy, progress, "collecting").alertFileHashes).toEqual({
      expected: [FILE_SHA],
      results: [{ index: 1, sha256: PLAIN_SHA, compared: "raw", match: false }],
      matched: false,
    });
  });
});

describe("expectedHashesOf (the alert trigger's plumbing)", () => {
  const device = { machineId: "m1" };
  const alert = (files: { sha256?: string; machineId?: string }[]) =>
    ({ source: "mde", id: "da1", devices: [device], files }) as Parameters<typeof expectedHashesOf>[0];

  it("keeps the distinct well-formed SHA-256 of files on this device or on no device, lowercased", () => {
    expect(
      expectedHashesOf(
        alert([
          { sha256: FILE_SHA.toUpperCase() },
          { sha256: FILE_SHA, machineId: "M1" },
          { sha256: PLAIN_SHA, machineId: "other" },
          { sha256: "not-a-hash" },
          {},
        ]),
        device,
      ),
    ).toEqual({ expectedSha256: [FILE_SHA] });
  });

  it("adds nothing when the alert names no hash", () => {
    expect(expectedHashesOf(alert([{}]), device)).toEqual({});
  });
});
