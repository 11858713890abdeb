/**
 * What every trigger's start refuses, whoever supplied the text: network and device paths that
 * arrive through an alert's placeholder (unless the operator allows them), commands handed over
 * as they are, and a comment carrying the collector's correlation marker (an alert id in the default).
 */
import { startPlaybookCollection, type CollectionStart } from "../../../functions/startCollection";
import type { CollectionPolicy } from "../../../shared/contract";
import { parsePlaybooks } from "../../../shared/playbooks";
import { fakeDurableAccess } from "../../support/triggerFakes";

const MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const { catalog } = parsePlaybooks(
  JSON.stringify([
    {
      name: "alert-file",
      comment: "Alert {{alert.id}}",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
    },
  ]),
);
const ALERT = { kind: "alert", alertId: "da1", source: "mde", playbook: "alert-file", rule: "r" } as const;
const POLICY = { deadline: "2026-03-05T02:00:00.000Z" } as CollectionPolicy;

function startAlert(durable: ReturnType<typeof fakeDurableAccess>, filePath: string, overrides: Partial<CollectionStart> = {}) {
  return startPlaybookCollection({
    durable: durable.access,
    instanceId: "alert-1",
    machineId: MACHINE,
    run: { playbook: catalog.get("alert-file")!, values: { "alert.id": "da1", "alert.filePath": filePath }, defaultComment: "default" },
    trigger: ALERT,
    policy: POLICY,
    ...overrides,
  });
}

describe("startPlaybookCollection: what no trigger can start", () => {
  it.each(["\\\\attacker\\share\\x.exe", "//attacker/share/x.exe", "\\\\?\\UNC\\attacker\\s\\x", "\\\\.\\PhysicalDrive0", "\\??\\C:\\x"])(
    "refuses the alert path %j by default and starts nothing",
    async (filePath) => {
      const durable = fakeDurableAccess();
      const outcome = await startAlert(durable, filePath);
      expect(outcome).toEqual({
        kind: "refused",
        problems: [{ field: "commands[0].params[0].value", message: expect.stringMatching(/GETFILE_ALLOW_UNC_PATHS/) }],
      });
      expect(durable.started).toEqual([]);
    },
  );

  it("starts a UNC path when the operator allows them (allowUncPaths)", async () => {
    const durable = fakeDurableAccess();
    const outcome = await startAlert(durable, "\\\\fileserver\\share\\x.exe", { allowUncPaths: true });
    expect(outcome).toMatchObject({
      kind: "started",
      input: { request: { commands: [{ params: [{ value: "\\\\fileserver\\share\\x.exe" }] }] } },
    });
  });

  it("checks commands handed over as they are with the same rules", async () => {
    const durable = fakeDurableAccess();
    const commands = [{ type: "GetFile" as const, params: [{ key: "Path", value: "\\\\attacker\\share\\x" }] }];
    expect(await startAlert(durable, "C:\\x", { run: { commands, comment: "ok" } })).toMatchObject({
      kind: "refused",
      problems: [{ field: "commands[0].params[0].value" }],
    });
    expect(await startAlert(durable, "C:\\x", { run: { commands, comment: "ok" }, allowUncPaths: true })).toMatchObject({
      kind: "started",
    });
  });

  it("refuses a comment that would carry the correlation marker, from any source", async () => {
    const durable = fakeDurableAccess();
    const forgedId = { "alert.id": "x [collector:lr-victim]", "alert.filePath": "C:\\x" };
    const rendered = await startAlert(durable, "C:\\x", {
      run: { playbook: catalog.get("alert-file")!, values: forgedId, defaultComment: "d" },
    });
    expect(rendered).toMatchObject({ kind: "refused", problems: [{ field: "comment", message: expect.stringContaining("[collector:") }] });
    const commands = [{ type: "GetFile" as const, params: [{ key: "Path", value: "C:\\x" }] }];
    const given = await startAlert(durable, "C:\\x", { run: { commands, comment: "see [collector:lr-victim]" } });
    expect(given).toMatchObject({ kind: "refused", problems: [{ field: "comment" }] });
    expect(durable.started).toEqual([]);
  });
});
