import type { EvidenceRecord } from "../../../../shared/contract";
import { buildManifest, type ManifestInput } from "../../../../shared/evidence/manifest";
import type { MachineAction } from "../../../../shared/mde/models";

const commands = [
  { type: "RunScript" as const, params: [{ key: "ScriptName", value: "minidump.ps1" }] },
  { type: "GetFile" as const, params: [{ key: "Path", value: "C:\\windows\\TEMP\\x.zip" }] },
];

const action = (statuses: string[], status = "Succeeded"): MachineAction => ({
  id: "act-1",
  type: "LiveResponse",
  status,
  machineId: "m",
  computerDnsName: "desktop-test",
  requestor: "app",
  requestorComment: "c",
  creationDateTimeUtc: "2026-01-01T00:00:00Z",
  lastUpdateDateTimeUtc: "2026-01-01T00:05:00Z",
  errorHResult: 0,
  cancellationRequestor: null,
  cancellationComment: null,
  cancellationDateTimeUtc: null,
  commands: statuses.map((s, index) => ({
    index,
    type: commands[index].type,
    params: commands[index].params,
    commandStatus: s,
    errors: s === "Failed" ? ["boom"] : [],
    startTime: null,
    endTime: null,
  })),
});

const record = (index: number): EvidenceRecord => ({
  index,
  type: commands[index].type,
  blobName: `p/m/act-1/${index}`,
  blobUrl: `http://x/p/m/act-1/${index}`,
  size: 3,
  sha256: "ab",
  md5: "cd",
  contentFormat: "raw",
  committedAt: "2026-01-01T00:06:00Z",
  created: true,
  linkFetches: 1,
});

const input = (over: Partial<ManifestInput>): ManifestInput => ({
  instanceId: "i",
  trigger: { kind: "webhook", receivedAt: "2026-01-01T00:00:00Z" },
  request: { machineId: "m", comment: "c", commands },
  outcome: "Completed",
  outcomeReason: "r",
  startedAt: "2026-01-01T00:00:00Z",
  finishedAt: "2026-01-01T00:07:00Z",
  action: action(["Completed", "Completed"]),
  collected: [record(0), record(1)],
  collectionErrors: [],
  ...over,
});

describe("buildManifest", () => {
  it("is complete when every completed result has its blob", () => {
    const m = buildManifest(input({}));
    expect(m.complete).toBe(true);
    expect(m.commands.map((c) => [c.status, c.executed, c.evidence?.sha256])).toEqual([
      ["Completed", true, "ab"],
      ["Completed", true, "ab"],
    ]);
  });

  it("says which commands MDE never ran after a failure", () => {
    const m = buildManifest(input({ outcome: "Failed", action: action(["Failed", "Created"], "Failed"), collected: [] }));
    expect(m.commands.map((c) => [c.status, c.executed])).toEqual([
      ["Failed", true],
      ["Created", false],
    ]);
    expect(m.commands[0].errors).toEqual(["boom"]);
    expect(m.complete).toBe(true);
  });

  it("is incomplete, with the error, when a completed result could not be copied", () => {
    const m = buildManifest(
      input({ collected: [record(0)], collectionErrors: [{ index: 1, code: "DownloadFailed", message: "HTTP 500" }] }),
    );
    expect(m.complete).toBe(false);
    expect(m.commands[1].collectionError).toEqual({ code: "DownloadFailed", message: "HTTP 500" });
  });

  it("records commands as never submitted when MDE refused the request", () => {
    const m = buildManifest(input({ outcome: "Rejected", action: undefined, collected: [] }));
    expect(m.machineAction).toBeNull();
    expect(m.commands.every((c) => c.status === "NotSubmitted" && !c.executed)).toBe(true);
  });
});

describe("buildManifest: the library files used", () => {
  const SHA = "e".repeat(64);
  const reviewed = [{ fileName: "minidump.ps1", sha256: SHA, source: "library" as const }];

  it("records the check the submission made, expected and observed", () => {
    const checked = [
      {
        fileName: "minidump.ps1",
        expectedSha256: SHA,
        expectedFrom: "library" as const,
        observedSha256: SHA,
        verdict: "match" as const,
        checkedAt: "2026-01-01T00:00:01.000Z",
      },
    ];
    expect(buildManifest(input({ reviewedLibraryFiles: reviewed, libraryFiles: checked })).libraryFiles).toEqual(checked);
  });

  it("records the expected hash as not checked when no submission reached the check, and nothing without RunScript or PutFile", () => {
    expect(buildManifest(input({ reviewedLibraryFiles: reviewed, action: undefined, collected: [] })).libraryFiles).toEqual([
      {
        fileName: "minidump.ps1",
        expectedSha256: SHA,
        expectedFrom: "library",
        observedSha256: null,
        verdict: "notChecked",
        checkedAt: null,
      },
    ]);
    const getFileOnly = input({ request: { machineId: "m", comment: "c", commands: [commands[1]!] }, collected: [] });
    expect(buildManifest(getFileOnly)).not.toHaveProperty("libraryFiles");
  });
});
