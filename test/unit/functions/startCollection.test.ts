import { describeProblems, startPlaybookCollection, type CollectionStart } from "../../../functions/startCollection";
import { COLLECT_EVIDENCE_ORCHESTRATOR, type CollectionPolicy } from "../../../shared/contract";
import { parsePlaybooks } from "../../../shared/playbooks";
import { fakeDurableAccess } from "../../support/triggerFakes";

const MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const { catalog } = parsePlaybooks(
  JSON.stringify([
    {
      name: "triage",
      comment: "Triage of {{machine.computerDnsName}}",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\triage-{{machine.id}}.zip" }] }],
    },
    {
      name: "dump",
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "minidump.ps1" },
            { key: "Args", value: "{{params.process}}" },
          ],
        },
      ],
    },
  ]),
);
const POLICY = { deadline: "2026-03-05T02:00:00.000Z" } as CollectionPolicy;
const SCHEDULE = { kind: "schedule", plan: "nightly", scheduledFor: "2026-03-02T02:00:00.000Z", playbook: "triage" } as const;

function start(durable: ReturnType<typeof fakeDurableAccess>, overrides: Partial<CollectionStart> = {}) {
  return startPlaybookCollection({
    durable: durable.access,
    instanceId: "plan-1",
    machineId: MACHINE,
    run: {
      playbook: catalog.get("triage")!,
      values: { "machine.id": MACHINE, "machine.computerDnsName": "dc01.contoso.com" },
      defaultComment: "default (plan nightly)",
    },
    trigger: SCHEDULE,
    policy: POLICY,
    ...overrides,
  });
}

describe("startPlaybookCollection", () => {
  it("renders the playbook for the trigger and starts collectEvidence with the input it built", async () => {
    const durable = fakeDurableAccess();
    const startNew = jest.spyOn(durable.access.client, "startNew");
    const outcome = await start(durable);
    const input = {
      request: {
        machineId: MACHINE,
        commands: [{ type: "GetFile", params: [{ key: "Path", value: `C:\\triage-${MACHINE}.zip` }] }],
        comment: "Triage of dc01.contoso.com",
        trigger: SCHEDULE,
      },
      policy: POLICY,
    };
    expect(outcome).toEqual({ kind: "started", instanceId: "plan-1", input });
    expect(startNew).toHaveBeenCalledWith(COLLECT_EVIDENCE_ORCHESTRATOR, { instanceId: "plan-1", input });
  });

  it("takes the caller's comment over the playbook's, and the default when neither gives one", async () => {
    const commentOf = async (run: CollectionStart["run"]) => {
      const outcome = await start(fakeDurableAccess(), { run });
      return outcome.kind === "started" ? outcome.input.request.comment : outcome.kind;
    };
    const triage = {
      playbook: catalog.get("triage")!,
      values: { "machine.id": MACHINE, "machine.computerDnsName": "dc01" },
      defaultComment: "default",
    };
    expect(await commentOf({ ...triage, comment: "INC-42 by the analyst" })).toBe("INC-42 by the analyst");
    expect(await commentOf(triage)).toBe("Triage of dc01");
    expect(
      await commentOf({ playbook: catalog.get("dump")!, values: {}, parameters: { process: "lsass" }, defaultComment: "default" }),
    ).toBe("default");
  });

  it("starts given commands as they are, without rendering them", async () => {
    const commands = [{ type: "GetFile" as const, params: [{ key: "Path", value: "C:\\{{not-a-placeholder}}.txt" }] }];
    const outcome = await start(fakeDurableAccess(), { run: { commands, comment: "as given" } });
    expect(outcome).toMatchObject({ kind: "started", input: { request: { commands, comment: "as given" } } });
  });

  it("refuses a playbook that does not render, with its problems, and starts and looks up nothing", async () => {
    const durable = fakeDurableAccess();
    const outcome = await start(durable, { run: { playbook: catalog.get("dump")!, values: {}, defaultComment: "default" } });
    expect(outcome).toEqual({
      kind: "refused",
      problems: [{ field: "commands[0].params[1].value", message: "{{params.process}} has no value for this collection" }],
    });
    expect(durable.started).toEqual([]);
    expect(durable.lookups).toEqual([]);
  });

  it("reports an instance that already exists, with the input it was started with, and starts nothing", async () => {
    const durable = fakeDurableAccess();
    const first = await start(durable);
    const again = await start(durable, { policy: { deadline: "later" } as CollectionPolicy });
    expect(again).toEqual({
      kind: "alreadyStarted",
      instanceId: "plan-1",
      input: expect.objectContaining({ policy: { deadline: "later" } }),
      existing: first.kind === "started" && first.input,
    });
    expect(durable.started).toHaveLength(1);
  });

  it("starts under a new id without looking one up when it has no instance id", async () => {
    const durable = fakeDurableAccess();
    const outcome = await start(durable, { instanceId: undefined });
    expect(outcome).toMatchObject({ kind: "started", instanceId: "generated-1" });
    expect(durable.lookups).toEqual([]);
  });

  it("reports a duplicate that Durable refused after the check found nothing (a concurrent start) as already started", async () => {
    const racing = fakeDurableAccess({
      startNew: async (instanceId, input) => {
        racing.store(instanceId!, input);
        throw new Error("An Orchestration instance with the ID 'plan-1' already exists");
      },
    });
    const outcome = await start(racing);
    expect(outcome).toMatchObject({ kind: "alreadyStarted", instanceId: "plan-1" });
    expect(racing.lookups).toEqual(["plan-1", "plan-1"]);
  });

  it("throws what the client throws when the instance still does not exist, or has no id", async () => {
    const failing = fakeDurableAccess({ startNew: async () => Promise.reject(new Error("Durable is unavailable")) });
    await expect(start(failing)).rejects.toThrow("Durable is unavailable");
    await expect(start(failing, { instanceId: undefined })).rejects.toThrow("Durable is unavailable");
    expect(failing.lookups).toEqual(["plan-1", "plan-1"]);
  });
});

describe("describeProblems", () => {
  it("writes problems as one log value", () => {
    expect(
      describeProblems([
        { field: "a", message: "x" },
        { field: "b", message: "y" },
      ]),
    ).toBe("a: x; b: y");
  });
});

describe("startPlaybookCollection: reviewed library hashes in the input", () => {
  const PINNED = "c".repeat(64);
  const DEPLOYED = "d".repeat(64);
  const dump = (playbook = catalog.get("dump")!) => ({
    playbook: { ...playbook },
    values: { "machine.id": MACHINE },
    parameters: { process: "lsass" },
    defaultComment: "dump",
  });

  it("carries the deployed library/ hash of each RunScript file, and a playbook's pin before it", async () => {
    const deployedLibrary = new Map([["minidump.ps1", DEPLOYED]]);
    const fromLibrary = await start(fakeDurableAccess(), { run: dump(), deployedLibrary });
    expect(fromLibrary.kind === "started" && fromLibrary.input.request.libraryFiles).toEqual([
      { fileName: "minidump.ps1", sha256: DEPLOYED, source: "library" },
    ]);
    const pinned = { ...catalog.get("dump")!, librarySha256: { "minidump.ps1": PINNED } };
    const fromPin = await start(fakeDurableAccess(), { instanceId: "plan-2", run: dump(pinned), deployedLibrary });
    expect(fromPin.kind === "started" && fromPin.input.request.libraryFiles).toEqual([
      { fileName: "minidump.ps1", sha256: PINNED, source: "playbook" },
    ]);
  });

  it("carries an empty list for a file with no reviewed hash, and nothing for a request without RunScript or PutFile", async () => {
    const unreviewed = await start(fakeDurableAccess(), { run: dump(), deployedLibrary: new Map() });
    expect(unreviewed.kind === "started" && unreviewed.input.request.libraryFiles).toEqual([]);
    const getFileOnly = await start(fakeDurableAccess(), { deployedLibrary: new Map([["minidump.ps1", DEPLOYED]]) });
    expect(getFileOnly.kind === "started" && "libraryFiles" in getFileOnly.input.request).toBe(false);
  });
});
