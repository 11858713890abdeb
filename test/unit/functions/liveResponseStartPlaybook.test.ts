import { InvocationContext } from "@azure/functions";
import type { EndpointAuth } from "../../../functions/auth";
import { createLiveResponseStart } from "../../../functions/liveResponseStart";
import { loadConfig } from "../../../shared/config";
import { validateCollectionRequest } from "../../../shared/validation";
import { authorizedRequest, testEndpointAuth } from "../../support/authFakes";
import { fakeDurableAccess } from "../../support/triggerFakes";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const config = loadConfig({
  ...ENTRA_TEST_SETTINGS,
  EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net",
  PLAYBOOKS: JSON.stringify([
    {
      name: "memory-dump",
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
    { name: "alert-file", commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }] },
  ]),
});
const durable = fakeDurableAccess();
let auth: EndpointAuth;
beforeAll(async () => {
  auth = await testEndpointAuth();
});
const handler = createLiveResponseStart({
  get auth() {
    return auth;
  },
  mde: { listMachines: async () => [] },
  limits: config.limits,
  collection: config.collection,
  playbooks: config.playbooks,
  now: () => new Date("2026-01-01T00:00:00Z"),
  durable: () => durable.access,
});
const post = (body: unknown) =>
  authorizedRequest({ method: "POST", url: "http://localhost:7071/api/liveresponse", body: JSON.stringify(body) });
const ctx = () => new InvocationContext({ functionName: "liveResponseStart", logHandler: () => {} });
const details = async (body: unknown) => {
  const res = (await handler(await post(body), ctx())) as {
    status: number;
    jsonBody: { error: { details: { field: string; message: string }[] } };
  };
  expect(res.status).toBe(400);
  expect(durable.started).toEqual([]);
  return res.jsonBody.error.details;
};

describe("validateCollectionRequest with a playbook", () => {
  it("accepts playbook: { name, parameters } instead of commands", () => {
    expect(
      validateCollectionRequest({ machineId: MACHINE, playbook: { name: "memory-dump", parameters: { process: "lsass" } } }),
    ).toMatchObject({
      ok: true,
      value: { machineId: MACHINE, playbook: { name: "memory-dump", parameters: { process: "lsass" } }, commands: undefined },
    });
  });
});

describe("POST /api/liveresponse with a playbook refuses, before starting anything", () => {
  it("both commands and a playbook", async () => {
    const commands = [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a" }] }];
    expect(await details({ machineId: MACHINE, commands, playbook: { name: "memory-dump" } })).toEqual([
      { field: "playbook", message: "give either commands or playbook, not both" },
    ]);
  });

  it("neither commands nor a playbook", async () => {
    expect(await details({ machineId: MACHINE })).toEqual([
      { field: "commands", message: expect.stringContaining("or playbook: { name, parameters? }") },
    ]);
  });

  it("an unknown playbook, listing the known ones", async () => {
    expect(await details({ machineId: MACHINE, playbook: { name: "memdump" } })).toEqual([
      { field: "playbook.name", message: "unknown playbook; known: memory-dump, alert-file" },
    ]);
  });

  it("a malformed playbook reference or parameter", async () => {
    expect(await details({ machineId: MACHINE, playbook: "memory-dump" })).toEqual([
      { field: "playbook", message: expect.stringContaining("must be an object") },
    ]);
    expect(
      (await details({ machineId: MACHINE, playbook: { name: "memory-dump", parameters: { process: 3 } } })).map((d) => d.field),
    ).toEqual(["playbook.parameters.process"]);
  });

  it("a missing or unknown parameter", async () => {
    expect(await details({ machineId: MACHINE, playbook: { name: "memory-dump" } })).toEqual([
      { field: "playbook.commands[0].params[1].value", message: "{{params.process}} has no value for this collection" },
    ]);
    expect(
      (await details({ machineId: MACHINE, playbook: { name: "memory-dump", parameters: { process: "x", pid: "4" } } })).map(
        (d) => d.field,
      ),
    ).toEqual(["playbook.parameters.pid"]);
  });

  it("a playbook that needs an alert", async () => {
    expect(await details({ machineId: MACHINE, playbook: { name: "alert-file" } })).toEqual([
      { field: "playbook.commands[0].params[0].value", message: "{{alert.filePath}} is not available to a webhook collection" },
    ]);
  });
});
