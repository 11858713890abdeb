/**
 * The live response library as code, end to end on the simulator: the reviewed scripts of library/
 * are synced into MDE's library by `npm run library:sync` (in process), a playbook runs one of them
 * and the manifest records its SHA-256; a script changed out of band (as in the portal) refuses the
 * next collection with its reason, and nothing reaches runliveresponse.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { runLibrarySyncCommand } from "../../scripts/librarySyncCommand";
import { sha256Hex } from "../../shared/library/libraryFiles";
import { machine, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";

const ROOT = path.resolve(__dirname, "..", "..");
const SCRIPT = "Collect-TriagePackage.ps1";
const REVIEWED_SHA256 = sha256Hex(readFileSync(path.join(ROOT, "library", SCRIPT)));
const PLAYBOOKS = [
  {
    name: "triage-package",
    comment: "Triage package",
    commands: [
      {
        type: "RunScript",
        params: [
          { key: "ScriptName", value: SCRIPT },
          { key: "Args", value: "-OutputPath C:\\ProgramData\\Collector\\triage.zip" },
        ],
      },
      { type: "GetFile", params: [{ key: "Path", value: "C:\\ProgramData\\Collector\\triage.zip" }] },
    ],
  },
];

let h: CollectorHarness;
beforeAll(async () => {
  h = await startCollectorHarness({
    // The default: a library file without a reviewed hash is refused. MDE's library starts empty.
    settings: { PLAYBOOKS: JSON.stringify(PLAYBOOKS), LIBRARY_ALLOW_UNREVIEWED: "false" },
    simulator: { library: [] },
  });
});
afterAll(async () => h?.stop());

/** `npm run library:sync` against the simulator, in process; returns the exit code and what it printed. */
async function librarySync(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runLibrarySyncCommand(args, {
    env: { MDE_API_BASE_URL: h.simulator.baseUrl, LOCAL_DEVELOPMENT: "true" },
    root: ROOT,
    out: (line) => lines.push(line),
    err: (line) => lines.push(line),
    credential: () => {
      throw new Error("the simulator takes the development token");
    },
  });
  return { code, out: lines.join("\n") };
}

async function collect(machineId: string) {
  const res = await h.start({ machineId, playbook: { name: "triage-package" } });
  expect(res.status).toBe(202);
  return h.finish((res.jsonBody as { id: string }).id);
}

describe("the live response library as code", () => {
  it("syncs library/ (dry run first, idempotent after), then a playbook runs the reviewed script and the manifest records its SHA-256", async () => {
    const dryRun = await librarySync("--dry-run");
    expect(dryRun.code).toBe(1);
    expect(dryRun.out).toContain(`would upload  ${SCRIPT}  sha256 ${REVIEWED_SHA256}`);
    expect(h.simulator.stats().calls.uploadLibraryFile).toBe(0);

    const sync = await librarySync();
    expect(sync).toMatchObject({ code: 0 });
    expect(sync.out).toContain("every SHA-256 checked");
    const again = await librarySync();
    expect(again).toMatchObject({ code: 0 });
    expect(again.out).toContain("In sync: nothing to do.");
    const uploads = h.simulator.stats().calls.uploadLibraryFile;

    const m = machine();
    h.simulator.addMachine(m);
    const summary = await collect(m.machineId);
    expect(summary).toMatchObject({ outcome: "Completed", complete: true });
    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest.libraryFiles).toEqual([
      {
        fileName: SCRIPT,
        expectedSha256: REVIEWED_SHA256,
        expectedFrom: "library",
        observedSha256: REVIEWED_SHA256,
        verdict: "match",
        checkedAt: expect.any(String),
      },
    ]);
    expect(h.simulator.stats().calls.uploadLibraryFile).toBe(uploads);
  });

  it("refuses a collection whose script was changed out of band, with its reason, and submits nothing", async () => {
    const changed = h.simulator.putLibraryFile({ fileName: SCRIPT, content: "Write-Output 'not what was reviewed'\n" });
    const submissionsBefore = h.simulator.stats().calls.runLiveResponse;
    const actionsBefore = h.simulator.actions().length;
    const m = machine();
    h.simulator.addMachine(m);

    const summary = await collect(m.machineId);
    expect(summary.outcome).toBe("Rejected");
    expect(summary.outcomeReason).toContain("The collector refused to submit the live response: LibraryFileChanged");
    expect(summary.outcomeReason).toContain(`expected SHA-256 ${REVIEWED_SHA256}`);
    expect(summary.outcomeReason).toContain(`found ${changed.sha256 as string}`);
    expect(summary.rejection).toMatchObject({ code: "LibraryFileChanged" });
    expect(h.simulator.stats().calls.runLiveResponse).toBe(submissionsBefore);
    expect(h.simulator.actions()).toHaveLength(actionsBefore);

    const manifest = await h.readManifest(summary.manifest!.blobName);
    expect(manifest).toMatchObject({ outcome: "Rejected", machineAction: null });
    expect(manifest.libraryFiles).toEqual([
      expect.objectContaining({ fileName: SCRIPT, expectedSha256: REVIEWED_SHA256, observedSha256: changed.sha256, verdict: "changed" }),
    ]);
  });
});
