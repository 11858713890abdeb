import { createScheduledCollection } from "../../../functions/scheduledCollection";
import { planInstanceId } from "../../../shared/collectionPlans";
import { loadConfig } from "../../../shared/config";
import { MdeApiError } from "../../../shared/errors";
import { timerInfo } from "../../../devhost";
import { fakeMde } from "../../support/fakes";
import { capturingContext, fakeDurableAccess } from "../../support/triggerFakes";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const M1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const M2 = "f70f9fe6b29cd9511652434919c6530618f06606";
const M3 = "a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1";
const FIRED_AT = new Date("2026-03-02T02:00:00.350Z");
const OCCURRENCE = "2026-03-02T02:00:00.000Z";

const config = loadConfig({
  ...ENTRA_TEST_SETTINGS,
  EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net",
  PLAYBOOKS: JSON.stringify([
    {
      name: "triage",
      comment: "Nightly triage ({{plan.name}})",
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "Collect-Triage.ps1" },
            { key: "Args", value: "-Ticket {{params.ticket}} -Host {{machine.computerDnsName}}" },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\ProgramData\\triage-{{machine.id}}.zip" }] },
      ],
    },
    {
      name: "by-id",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\ProgramData\\{{plan.name}}-{{machine.id}}.zip" }] }],
    },
  ]),
  COLLECTION_PLANS: JSON.stringify([
    { name: "servers", playbook: "by-id", machineIds: [M1, M2] },
    { name: "tier0", playbook: "triage", parameters: { ticket: "CHG-1" }, filter: "machineTags/any(tag: tag eq 'tier0')", top: 10 },
  ]),
  COLLECTION_PLANS_MAX_MACHINES: "3",
  COLLECTION_PLANS_SUBMISSIONS_PER_MINUTE: "2",
});

type Listed = { id: string; computerDnsName: string | null }[];

function setup(
  listMachines: jest.Mock = jest.fn(async (): Promise<Listed> => [
    { id: M3, computerDnsName: "dc01.contoso.com" },
    { id: "b16f11eb16f11eb16f11eb16f11eb16f11eb16f1", computerDnsName: "dc02.contoso.com" },
  ]),
) {
  const durable = fakeDurableAccess();
  const mde = fakeMde({ listMachines });
  const handler = createScheduledCollection({
    mde,
    plans: config.plans,
    playbooks: config.playbooks,
    collection: config.collection,
    now: () => FIRED_AT,
    durable: () => durable.access,
  });
  return { durable, mde, handler };
}

describe("scheduledCollection", () => {
  it("starts one collection per planned machine, with the playbook rendered for each and the occurrence as scheduledFor", async () => {
    const { durable, mde, handler } = setup();
    const { context, lines } = capturingContext("scheduledCollection");
    await handler(timerInfo({ now: FIRED_AT }), context);

    expect(mde.listMachines).toHaveBeenCalledWith({ filter: "machineTags/any(tag: tag eq 'tier0')", top: 10 });
    expect(durable.started.map((s) => s.instanceId)).toEqual([
      planInstanceId("servers", M1, OCCURRENCE),
      planInstanceId("servers", M2, OCCURRENCE),
      planInstanceId("tier0", M3, OCCURRENCE),
    ]);
    const tier0 = durable.started[2]!.input.request;
    expect(tier0).toEqual({
      machineId: M3,
      comment: "Nightly triage (tier0)",
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "Collect-Triage.ps1" },
            { key: "Args", value: "-Ticket CHG-1 -Host dc01.contoso.com" },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: `C:\\ProgramData\\triage-${M3}.zip` }] },
      ],
      trigger: { kind: "schedule", plan: "tier0", scheduledFor: OCCURRENCE, playbook: "triage" },
      // Collect-Triage.ps1 is neither in library/ nor pinned: no reviewed hash (the submit activity decides).
      libraryFiles: [],
    });
    expect(durable.started[0]!.input.request.commands[0]!.params[0]!.value).toBe(`C:\\ProgramData\\servers-${M1}.zip`);
    // Two submissions per minute: the third waits a minute, and its deadline counts from then.
    expect(durable.started.map((s) => s.input.policy.startAfter ?? null)).toEqual([null, null, "2026-03-02T02:01:00.350Z"]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "warn", message: "scheduled run capped", machines: 4, started: 3, skipped: 1, limit: 3 }),
    );
    expect(lines.at(-1)).toMatchObject({
      message: "scheduled run finished",
      scheduledFor: OCCURRENCE,
      started: 3,
      existing: 0,
      refused: 0,
    });
  });

  it("names the occurrence just ahead when the timer fires a few milliseconds early", async () => {
    const durable = fakeDurableAccess();
    const early = createScheduledCollection({
      mde: fakeMde({ listMachines: jest.fn(async () => []) }),
      plans: config.plans,
      playbooks: config.playbooks,
      collection: config.collection,
      now: () => new Date("2026-03-02T01:59:59.996Z"),
      durable: () => durable.access,
    });
    const { context, lines } = capturingContext("scheduledCollection");
    await early(timerInfo({ now: new Date("2026-03-02T01:59:59.996Z") }), context);
    expect(lines.at(-1)).toMatchObject({ message: "scheduled run finished", scheduledFor: OCCURRENCE, started: 2 });
  });

  it("starts nothing twice when the timer fires again for the same occurrence", async () => {
    const { durable, handler } = setup();
    await handler(timerInfo({ now: FIRED_AT }), capturingContext("scheduledCollection").context);
    const again = capturingContext("scheduledCollection");
    await handler(timerInfo({ now: FIRED_AT }), again.context);
    expect(durable.started).toHaveLength(3);
    expect(again.lines.filter((l) => l.message === "scheduled collection already started")).toHaveLength(3);
    expect(again.lines.at(-1)).toMatchObject({ message: "scheduled run finished", started: 0, existing: 3 });
  });

  it("skips a plan whose machines cannot be listed, logging why, and runs the others", async () => {
    const { durable, handler } = setup(
      jest.fn(async () => {
        throw new MdeApiError({ statusCode: 400, code: "InvalidInput", message: "Invalid $filter" });
      }),
    );
    const { context, lines } = capturingContext("scheduledCollection");
    await handler(timerInfo({ now: FIRED_AT }), context);
    expect(durable.started).toHaveLength(2);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        message: "plan machines could not be listed; plan skipped",
        plan: "tier0",
        status: 400,
        code: "InvalidInput",
      }),
    );
  });

  it("refuses, with a log line, a machine the playbook cannot be rendered for", async () => {
    const { durable, handler } = setup(jest.fn(async () => [{ id: M3, computerDnsName: null }]));
    const { context, lines } = capturingContext("scheduledCollection");
    await handler(timerInfo({ now: FIRED_AT }), context);
    expect(durable.started).toHaveLength(2);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "scheduled collection refused",
        plan: "tier0",
        machineId: M3,
        problems: expect.stringContaining("{{machine.computerDnsName}} has no value"),
      }),
    );
  });
});
