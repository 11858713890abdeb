import { HttpRequest, InvocationContext } from "@azure/functions";
import { createLiveResponseStart, instanceIdForKey } from "../../../functions/liveResponseStart";
import { loadConfig } from "../../../shared/config";
import { REQUEST_LIMITS } from "../../../shared/validation";
import { fakeDurableAccess } from "./triggerFakes";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";

const settings = loadConfig({ ...ENTRA_TEST_SETTINGS, EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net" }).collection;
const handler = createLiveResponseStart({ collection: settings, now: () => new Date("2026-01-01T00:00:00Z") });

function post(body: string, headers: Record<string, string> = {}) {
  return new HttpRequest({
    method: "POST",
    url: "http://localhost:7071/api/liveresponse",
    body: { string: body },
    headers: { "content-type": "application/json", ...headers },
  });
}
const ctx = () => new InvocationContext({ functionName: "liveResponseStart", logHandler: () => {} });

describe("POST /api/liveresponse refuses bad input before starting anything", () => {
  it("answers 400 naming every bad field", async () => {
    const res = await handler(post(JSON.stringify({ machineId: "nope", commands: [{ type: "GetFile", params: [] }] })), ctx());
    expect(res.status).toBe(400);
    expect((res as { jsonBody: unknown }).jsonBody).toEqual({
      error: {
        code: "InvalidRequest",
        message: expect.stringContaining("nothing was started"),
        details: [
          { field: "machineId", message: expect.any(String) },
          { field: "commands[0].params", message: "GetFile requires Path" },
        ],
      },
    });
  });

  it("answers 400 for a body that is not JSON, or empty", async () => {
    expect((await handler(post("{not json"), ctx())).status).toBe(400);
    expect((await handler(post(""), ctx())).status).toBe(400);
  });

  it("answers 400 for a bad Idempotency-Key header", async () => {
    const body = JSON.stringify({
      machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a" }] }],
    });
    const res = await handler(post(body, { "idempotency-key": "has space" }), ctx());
    expect(res.status).toBe(400);
    expect(JSON.stringify((res as { jsonBody: unknown }).jsonBody)).toContain("Idempotency-Key (header)");
  });

  it("answers 400 when the body's idempotencyKey and the Idempotency-Key header differ", async () => {
    const body = JSON.stringify({
      machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
      commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a" }] }],
      idempotencyKey: "INC-1",
    });
    const res = await handler(post(body, { "idempotency-key": "INC-2" }), ctx());
    expect(res.status).toBe(400);
    expect(JSON.stringify((res as { jsonBody: unknown }).jsonBody)).toContain("differs from the Idempotency-Key header");
  });

  it("answers 413 for an oversized body", async () => {
    const res = await handler(post("x".repeat(REQUEST_LIMITS.maxBodyBytes + 1)), ctx());
    expect(res.status).toBe(413);
  });
});

describe("instanceIdForKey", () => {
  it("maps one key to one instance id, different keys to different ids", () => {
    expect(instanceIdForKey("ticket-42")).toBe(instanceIdForKey("ticket-42"));
    expect(instanceIdForKey("ticket-42")).not.toBe(instanceIdForKey("ticket-43"));
    expect(instanceIdForKey("ticket-42")).toMatch(/^lr-[0-9a-f]{40}$/);
  });
});

describe("POST /api/liveresponse starts once per idempotency key", () => {
  const MACHINE = "f70f9fe6b29cd9511652434919c6530618f06606";
  const commands = [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a" }] }];
  const setup = () => {
    const durable = fakeDurableAccess();
    const start = createLiveResponseStart({
      collection: settings,
      now: () => new Date("2026-01-01T00:00:00Z"),
      durable: () => durable.access,
    });
    return { durable, start };
  };

  it("starts the request under the key's instance id, naming the caller, and answers 202", async () => {
    const { durable, start } = setup();
    const res = await start(
      post(JSON.stringify({ machineId: MACHINE, commands }), {
        "idempotency-key": "INC-7",
        "x-ms-client-principal-name": "analyst@contoso.com",
      }),
      ctx(),
    );
    expect(res.status).toBe(202);
    expect(durable.started).toEqual([
      {
        instanceId: instanceIdForKey("INC-7"),
        input: expect.objectContaining({
          request: {
            machineId: MACHINE,
            commands,
            comment: expect.any(String),
            trigger: { kind: "webhook", caller: "analyst@contoso.com", idempotencyKey: "INC-7", receivedAt: "2026-01-01T00:00:00.000Z" },
          },
        }),
      },
    ]);
  });

  it("answers 202 again for a retry, and 409 when the key comes back with other commands, starting nothing more", async () => {
    const { durable, start } = setup();
    const body = (c: unknown) => JSON.stringify({ machineId: MACHINE, commands: c, idempotencyKey: "INC-8" });
    await start(post(body(commands)), ctx());
    const retry = await start(post(body(commands)), ctx());
    expect(retry).toMatchObject({ status: 202, jsonBody: { id: instanceIdForKey("INC-8") } });
    const reused = await start(post(body([{ type: "GetFile", params: [{ key: "Path", value: "C:\\b" }] }])), ctx());
    expect(reused).toMatchObject({ status: 409, jsonBody: { error: { code: "IdempotencyKeyReused" } } });
    expect(durable.started).toHaveLength(1);
  });
});
