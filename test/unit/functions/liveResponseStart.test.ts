import { HttpRequest, InvocationContext } from "@azure/functions";
import type { EndpointAuth } from "../../../functions/auth";
import { createLiveResponseStart, instanceIdForKey, type LiveResponseStartDeps } from "../../../functions/liveResponseStart";
import { loadConfig } from "../../../shared/config";
import type { CollectEvidenceInput } from "../../../shared/contract";
import { MdeApiError } from "../../../shared/errors";
import type { Machine } from "../../../shared/mde/models";
import { REQUEST_LIMITS } from "../../../shared/validation";
import { bearer } from "../../support/identity";
import { ENTRA_TEST_SETTINGS } from "../../support/settings";
import { authorizedRequest, testEndpointAuth } from "../../support/authFakes";
import { fakeDurableAccess } from "../../support/triggerFakes";

const MACHINE = "f70f9fe6b29cd9511652434919c6530618f06606";
const GET_FILE = [{ type: "GetFile", params: [{ key: "Path", value: "C:\\a" }] }];
const config = loadConfig({
  ...ENTRA_TEST_SETTINGS,
  EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net",
  PLAYBOOKS: JSON.stringify([
    { name: "triage", commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] }] },
    { name: "triage-2", commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] }] },
  ]),
});

let auth: EndpointAuth;
beforeAll(async () => {
  auth = await testEndpointAuth();
});

/** A starter over a fake durable access and a fake MDE that knows `machines`. */
function setup(
  overrides: Partial<LiveResponseStartDeps> & { machines?: Partial<Machine>[]; inFlight?: { instanceId: string; input: unknown }[] } = {},
) {
  const durable = fakeDurableAccess({ inFlight: overrides.inFlight });
  const machineLookups: string[] = [];
  const mde: LiveResponseStartDeps["mde"] = {
    async listMachines(query) {
      machineLookups.push(query.filter ?? "");
      return (overrides.machines ?? []).filter((m) => query.filter === `id eq '${m.id}'`) as Machine[];
    },
  };
  const start = createLiveResponseStart({
    auth,
    mde,
    limits: { maxInFlight: 500, maxInFlightPerCaller: 50 },
    collection: config.collection,
    playbooks: config.playbooks,
    now: () => new Date("2026-01-01T00:00:00Z"),
    durable: () => durable.access,
    ...overrides,
  });
  return { durable, start, machineLookups };
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  authorizedRequest({
    method: "POST",
    url: "https://collector.contoso.com/api/liveresponse",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers,
  });
const ctx = () => new InvocationContext({ functionName: "liveResponseStart", logHandler: () => {} });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
type Answer = { status?: number; headers?: Record<string, string>; jsonBody?: any };
const call = async (start: ReturnType<typeof setup>["start"], request: Promise<Awaited<ReturnType<typeof post>>>) =>
  (await start(await request, ctx())) as Answer;

describe("POST /api/liveresponse refuses bad input before starting anything", () => {
  it("answers 400 naming every bad field", async () => {
    const { start, durable } = setup();
    const res = await call(start, post({ machineId: "nope", commands: [{ type: "GetFile", params: [] }] }));
    expect(res.status).toBe(400);
    expect(res.jsonBody).toEqual({
      error: {
        code: "InvalidRequest",
        message: expect.stringContaining("nothing was started"),
        details: [
          { field: "machineId", message: expect.any(String) },
          { field: "commands[0].params", message: "GetFile requires Path" },
        ],
      },
    });
    expect(durable.started).toEqual([]);
  });

  it("answers 400 for a body that is not JSON, or empty", async () => {
    const { start } = setup();
    expect((await call(start, post("{not json"))).status).toBe(400);
    expect((await call(start, post(""))).status).toBe(400);
  });

  it("answers 400 for a bad Idempotency-Key header, and when the body's key differs from the header's", async () => {
    const { start } = setup();
    const bad = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { "idempotency-key": "has space" }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.jsonBody)).toContain("Idempotency-Key (header)");
    const differs = await call(
      start,
      post({ machineId: MACHINE, commands: GET_FILE, idempotencyKey: "INC-1" }, { "idempotency-key": "INC-2" }),
    );
    expect(differs.status).toBe(400);
    expect(JSON.stringify(differs.jsonBody)).toContain("differs from the Idempotency-Key header");
  });

  it("answers 413 for an oversized body", async () => {
    const { start } = setup();
    expect((await call(start, post("x".repeat(REQUEST_LIMITS.maxBodyBytes + 1)))).status).toBe(413);
  });
});

describe("POST /api/liveresponse answers with the app's own URLs only", () => {
  it("202: id, status and cancel URLs on the request's origin, Location and Retry-After; nothing of the Durable management API", async () => {
    const { start } = setup();
    const res = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { "idempotency-key": "INC-URL" }));
    const id = instanceIdForKey("INC-URL");
    expect(res.status).toBe(202);
    expect(res.jsonBody).toEqual({
      id,
      statusQueryGetUri: `https://collector.contoso.com/api/liveresponse/${id}`,
      cancelPostUri: `https://collector.contoso.com/api/liveresponse/${id}/cancel`,
    });
    expect(res.headers).toEqual({ Location: `https://collector.contoso.com/api/liveresponse/${id}`, "Retry-After": "10" });
    // The idempotent re-answer is the same.
    const again = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { "idempotency-key": "INC-URL" }));
    expect(again).toEqual(res);
    expect(JSON.stringify(res)).not.toMatch(/runtime\/webhooks\/durabletask|code=|taskHub|systemKey/i);
  });
});

describe("POST /api/liveresponse authenticates the caller and checks the run role", () => {
  const body = { machineId: MACHINE, commands: GET_FILE };

  it("401 without a token: a Bearer challenge without error code, and the error envelope saying what to send", async () => {
    const { start, durable } = setup();
    const anonymous = new HttpRequest({
      method: "POST",
      url: "https://collector.contoso.com/api/liveresponse",
      body: { string: JSON.stringify(body) },
      headers: { "content-type": "application/json" },
    });
    const res = (await start(anonymous, ctx())) as Answer;
    expect(res.status).toBe(401);
    expect(res.headers).toEqual({ "WWW-Authenticate": "Bearer" });
    expect(res.jsonBody).toEqual({ error: { code: "Unauthorized", message: expect.stringContaining("Authorization: Bearer <token>") } });
    expect(durable.started).toEqual([]);
  });

  it("401 invalid_token (RFC 6750) for an expired or foreign token, saying why", async () => {
    const { start } = setup();
    const expired = await call(start, post(body, { authorization: await bearer({ expiresInSeconds: -3600 }) }));
    expect(expired.status).toBe(401);
    expect(expired.headers!["WWW-Authenticate"]).toBe('Bearer error="invalid_token", error_description="the token has expired"');
    expect(expired.jsonBody.error).toEqual({ code: "Unauthorized", message: "The caller is not authenticated: the token has expired." });
    const otherAudience = await call(start, post(body, { authorization: await bearer({ audience: "api://someone-else" }) }));
    expect(otherAudience.headers!["WWW-Authenticate"]).toContain("another audience");
  });

  it("503 with Retry-After when the signing keys cannot be fetched", async () => {
    const { start } = setup({
      auth: { roles: auth.roles, authenticate: async () => ({ ok: false, status: 503, description: "the keys could not be fetched" }) },
    });
    const res = await call(start, post(body));
    expect(res).toMatchObject({
      status: 503,
      headers: { "Retry-After": "10" },
      jsonBody: { error: { code: "AuthenticationUnavailable" } },
    });
  });

  it("403 naming the missing role when the caller holds only Collector.Read", async () => {
    const { start, durable } = setup();
    const res = await call(start, post(body, { authorization: await bearer({ roles: ["Collector.Read"] }) }));
    expect(res.status).toBe(403);
    expect(res.jsonBody.error.code).toBe("Forbidden");
    expect(res.jsonBody.error.message).toContain("requires app role Collector.Run");
    expect(durable.started).toEqual([]);
  });

  it("records the verified caller in the orchestration input, never the self-declared principal header", async () => {
    const { start, durable } = setup();
    const res = await call(start, post(body, { "idempotency-key": "INC-7", "x-ms-client-principal-name": "ceo@contoso.com" }));
    expect(res.status).toBe(202);
    expect(durable.started).toHaveLength(1);
    const trigger = durable.started[0]!.input.request.trigger;
    expect(trigger).toEqual({
      kind: "webhook",
      caller: {
        kind: "development",
        objectId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: "developer@localhost",
        tenantId: expect.any(String),
        roles: ["Collector.Run", "Collector.Read", "Collector.Cancel", "Collector.Alert"],
      },
      idempotencyKey: "INC-7",
      receivedAt: "2026-01-01T00:00:00.000Z",
    });
    expect(JSON.stringify(durable.started)).not.toContain("ceo@contoso.com");
  });
});

describe("POST /api/liveresponse enforces the run role's scope", () => {
  it("refuses raw commands and other playbooks to a role scoped to one playbook", async () => {
    const scoped = await testEndpointAuth({ "Soc.Triage": { grants: "run", playbooks: ["triage"] } });
    const { start, durable } = setup({ auth: scoped });
    const token = await bearer({ roles: ["Soc.Triage"] });
    const raw = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { authorization: token }));
    expect(raw).toMatchObject({
      status: 403,
      jsonBody: { error: { code: "Forbidden", message: expect.stringContaining("only playbooks may be started") } },
    });
    const other = await call(start, post({ machineId: MACHINE, playbook: { name: "triage-2" } }, { authorization: token }));
    expect(other.jsonBody.error.message).toContain("playbook triage-2 is outside the role's scope");
    expect(durable.started).toEqual([]);
    expect((await call(start, post({ machineId: MACHINE, playbook: { name: "triage" } }, { authorization: token }))).status).toBe(202);
  });

  it("refuses a command type outside the role's scope", async () => {
    const scoped = await testEndpointAuth({ "Soc.Files": { grants: "run", commandTypes: ["GetFile"] } });
    const { start } = setup({ auth: scoped });
    const token = await bearer({ roles: ["Soc.Files"] });
    const res = await call(start, post({ machineId: MACHINE, playbook: { name: "triage" } }, { authorization: token }));
    expect(res.jsonBody.error.message).toContain("command type RunScript is outside the role's scope");
    expect((await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { authorization: token }))).status).toBe(202);
  });

  it("looks the device's tags up in MDE for a tag-scoped role: 403 for an untagged device, 202 for a tagged one", async () => {
    const tagged = "a".repeat(40);
    const scoped = await testEndpointAuth({ "Soc.Lab": { grants: "run", machineTags: ["lab"] } });
    const { start, durable, machineLookups } = setup({
      auth: scoped,
      machines: [
        { id: MACHINE, machineTags: ["prod"] },
        { id: tagged, machineTags: ["lab"] },
      ],
    });
    const token = await bearer({ roles: ["Soc.Lab"] });
    const refused = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { authorization: token }));
    expect(refused).toMatchObject({
      status: 403,
      jsonBody: { error: { code: "Forbidden", message: expect.stringContaining("the device carries none of the role's machine tags") } },
    });
    expect((await call(start, post({ machineId: tagged, commands: GET_FILE }, { authorization: token }))).status).toBe(202);
    expect(machineLookups).toEqual([`id eq '${MACHINE}'`, `id eq '${tagged}'`]);
    expect(durable.started.map((s) => s.input.request.machineId)).toEqual([tagged]);
  });

  it("reads no tags for an unscoped role, and answers 503 when MDE cannot say", async () => {
    const { start, machineLookups } = setup();
    expect((await call(start, post({ machineId: MACHINE, commands: GET_FILE }))).status).toBe(202);
    expect(machineLookups).toEqual([]);

    const scoped = await testEndpointAuth({ "Soc.Lab": { grants: "run", machineTags: ["lab"] } });
    const failing = createLiveResponseStart({
      auth: scoped,
      mde: {
        listMachines: async () => Promise.reject(new MdeApiError({ statusCode: 403, code: "Forbidden", message: "no Machine.Read.All" })),
      },
      limits: { maxInFlight: 500, maxInFlightPerCaller: 50 },
      collection: config.collection,
      now: () => new Date("2026-01-01T00:00:00Z"),
      durable: () => fakeDurableAccess().access,
    });
    const res = await call(
      failing,
      post({ machineId: MACHINE, commands: GET_FILE }, { authorization: await bearer({ roles: ["Soc.Lab"] }) }),
    );
    expect(res).toMatchObject({ status: 503, headers: { "Retry-After": "30" }, jsonBody: { error: { code: "MachineLookupFailed" } } });
  });
});

describe("POST /api/liveresponse caps collections in flight", () => {
  const inputOf = (objectId: string | undefined): CollectEvidenceInput =>
    ({
      request: {
        machineId: MACHINE,
        commands: GET_FILE,
        comment: "c",
        trigger: objectId
          ? { kind: "webhook", caller: { kind: "user", objectId, name: "x", roles: [] }, receivedAt: "" }
          : { kind: "schedule", plan: "p", scheduledFor: "", playbook: "triage" },
      },
    }) as unknown as CollectEvidenceInput;
  const running = (n: number, objectId?: string) =>
    Array.from({ length: n }, (_, i) => ({ instanceId: `other-${objectId ?? "s"}-${i}`, input: inputOf(objectId) }));

  it("429 with Retry-After naming COLLECTIONS_MAX_IN_FLIGHT when all callers together reach it", async () => {
    const { start, durable } = setup({ limits: { maxInFlight: 3, maxInFlightPerCaller: 50 }, inFlight: running(3) });
    const res = await call(start, post({ machineId: MACHINE, commands: GET_FILE }));
    expect(res.status).toBe(429);
    expect(res.headers).toEqual({ "Retry-After": "60" });
    expect(res.jsonBody.error).toEqual({ code: "TooManyCollections", message: expect.stringContaining("COLLECTIONS_MAX_IN_FLIGHT") });
    expect(durable.started).toEqual([]);
  });

  it("429 naming COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER when this caller reaches its own limit; another caller still starts", async () => {
    const { start, durable } = setup({ limits: { maxInFlight: 100, maxInFlightPerCaller: 2 } });
    expect((await call(start, post({ machineId: MACHINE, commands: GET_FILE }))).status).toBe(202);
    expect((await call(start, post({ machineId: MACHINE, commands: GET_FILE }))).status).toBe(202);
    const third = await call(start, post({ machineId: MACHINE, commands: GET_FILE }));
    expect(third).toMatchObject({
      status: 429,
      jsonBody: { error: { code: "TooManyCollections", message: expect.stringContaining("COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER") } },
    });
    const other = await call(
      start,
      post({ machineId: MACHINE, commands: GET_FILE }, { authorization: await bearer({ name: "other-analyst@localhost" }) }),
    );
    expect(other.status).toBe(202);
    expect(durable.started).toHaveLength(3);
  });

  it("answers the retry of a collection already started even at the limit", async () => {
    const { start, durable } = setup({ limits: { maxInFlight: 1, maxInFlightPerCaller: 1 } });
    const first = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { "idempotency-key": "INC-9" }));
    const retry = await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { "idempotency-key": "INC-9" }));
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(retry.jsonBody.id).toBe(instanceIdForKey("INC-9"));
    expect((await call(start, post({ machineId: MACHINE, commands: GET_FILE }, { "idempotency-key": "INC-10" }))).status).toBe(429);
    expect(durable.started).toHaveLength(1);
  });
});

describe("POST /api/liveresponse starts once per idempotency key", () => {
  const body = (extra: Record<string, unknown>) => ({ machineId: MACHINE, commands: GET_FILE, idempotencyKey: "INC-8", ...extra });

  it("answers 202 again for a retry, and 409 IdempotencyKeyReused when the key comes back with other commands, another comment, device or playbook", async () => {
    const { start, durable } = setup();
    await call(start, post(body({ comment: "first" })));
    expect(await call(start, post(body({ comment: "first" })))).toMatchObject({ status: 202, jsonBody: { id: instanceIdForKey("INC-8") } });
    for (const changed of [
      { commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\b" }] }], comment: "first" },
      { comment: "second" },
      { comment: "first", machineId: "b".repeat(40) },
      { commands: undefined, playbook: { name: "triage" }, comment: "first" },
    ]) {
      const reused = await call(start, post(body(changed)));
      expect(reused).toMatchObject({ status: 409, jsonBody: { error: { code: "IdempotencyKeyReused" } } });
    }
    expect(durable.started).toHaveLength(1);
  });

  it("tells two playbooks with the same commands apart", async () => {
    const { start } = setup();
    const key = { idempotencyKey: "INC-11", machineId: MACHINE };
    expect((await call(start, post({ ...key, playbook: { name: "triage" } }))).status).toBe(202);
    expect((await call(start, post({ ...key, playbook: { name: "triage-2" } }))).status).toBe(409);
  });
});

describe("instanceIdForKey", () => {
  it("maps one key to one instance id, different keys to different ids", () => {
    expect(instanceIdForKey("ticket-42")).toBe(instanceIdForKey("ticket-42"));
    expect(instanceIdForKey("ticket-42")).not.toBe(instanceIdForKey("ticket-43"));
    expect(instanceIdForKey("ticket-42")).toMatch(/^lr-[0-9a-f]{40}$/);
  });
});
