import { InvocationContext } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import type { EndpointAuth } from "../../../functions/auth";
import type { DurableAccess } from "../../../functions/durableAccess";
import { createLiveResponseCancel } from "../../../functions/liveResponseCancel";
import { createLiveResponseStatus } from "../../../functions/liveResponseStatus";
import { parseCancelRequest } from "../../../shared/cancelRequest";
import { bearer } from "../../support/identity";
import { authorizedRequest, testEndpointAuth } from "../../support/authFakes";

const ctx = () => new InvocationContext({ functionName: "test", logHandler: () => {} });
const request = (method: string, instanceId: string, body?: unknown, headers: Record<string, string> = {}) =>
  authorizedRequest({
    method,
    url: `http://localhost/api/liveresponse/${instanceId}`,
    params: { instanceId },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    headers,
  });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
type Answer = { status?: number; headers?: Record<string, string>; jsonBody?: any };

const CALLER = { kind: "user", objectId: "0b9c1d2e-3f40-4152-8a6b-7c8d9e0f1a2b", name: "analyst@contoso.com", roles: ["Collector.Run"] };
const INPUT = {
  request: {
    machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
    commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\secret\\input-only.txt" }] }],
    comment: "comment only the input holds",
    trigger: { kind: "webhook", caller: CALLER, receivedAt: "2026-03-02T09:00:00.000Z", idempotencyKey: "INC-1" },
  },
  policy: { deadline: "2026-03-05T09:00:00.000Z" },
};

/** One known instance; every other id is missing. */
function durableWith(known: { instanceId: string; runtimeStatus: string; customStatus?: unknown; input?: unknown; output?: unknown }) {
  const raised: unknown[][] = [];
  const access: DurableAccess = {
    client: { raiseEvent: async (...args: unknown[]) => void raised.push(args) } as unknown as DurableAccess["client"],
    findStatus: async (id) => (id === known.instanceId ? (known as unknown as DurableOrchestrationStatus) : undefined),
    async *inFlight() {},
  };
  return { access, raised };
}

let auth: EndpointAuth;
beforeAll(async () => {
  auth = await testEndpointAuth();
});

const running = {
  instanceId: "lr-1",
  runtimeStatus: "Running",
  customStatus: { phase: "queuedOnDevice", machineId: INPUT.request.machineId },
  input: INPUT,
} as const;

describe("GET /api/liveresponse/{id}", () => {
  it("404 for a missing instance; for a known one the custom status, what started it and who, and nothing of the input", async () => {
    const status = createLiveResponseStatus({ auth, durable: () => durableWith(running).access });
    expect(await status(await request("GET", "lr-2"), ctx())).toMatchObject({
      status: 404,
      jsonBody: { error: { code: "CollectionNotFound" } },
    });
    const res = (await status(await request("GET", "lr-1"), ctx())) as Answer;
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({
      instanceId: "lr-1",
      runtimeStatus: "Running",
      phase: "queuedOnDevice",
      startedBy: CALLER,
      trigger: { kind: "webhook", receivedAt: "2026-03-02T09:00:00.000Z", idempotencyKey: "INC-1" },
    });
    const text = JSON.stringify(res.jsonBody);
    expect(text).not.toMatch(/input-only|comment only the input holds|"input"|"policy"/);
    expect(text).not.toMatch(/runtime\/webhooks\/durabletask|code=|taskHub/);
  });

  it("a crashed orchestration's error as one public line, without the stack", async () => {
    const failed = {
      ...running,
      runtimeStatus: "Failed",
      output:
        "Orchestrator function 'collectEvidence' failed: boom\n    at collectEvidence (/home/site/wwwroot/dist/orchestrators/collectEvidence.js:10:5)",
    };
    const status = createLiveResponseStatus({ auth, durable: () => durableWith(failed).access });
    const res = (await status(await request("GET", "lr-1"), ctx())) as Answer;
    expect(res.jsonBody).toMatchObject({ phase: "failed", error: "Orchestrator function 'collectEvidence' failed: boom" });
  });

  it("401 without a token, 403 without a role granting read", async () => {
    const status = createLiveResponseStatus({ auth, durable: () => durableWith(running).access });
    const anonymous = await request("GET", "lr-1");
    anonymous.headers.delete("authorization");
    expect(await status(anonymous, ctx())).toMatchObject({
      status: 401,
      headers: { "WWW-Authenticate": "Bearer" },
      jsonBody: { error: { code: "Unauthorized" } },
    });
    const runOnly = (await status(
      await request("GET", "lr-1", undefined, { authorization: await bearer({ roles: ["Collector.Run"] }) }),
      ctx(),
    )) as Answer;
    expect(runOnly).toMatchObject({
      status: 403,
      jsonBody: { error: { code: "Forbidden", message: expect.stringContaining("requires app role Collector.Read") } },
    });
  });
});

describe("POST /api/liveresponse/{id}/cancel", () => {
  const now = () => new Date("2026-03-02T10:00:00Z");

  it("404 for a missing instance, 409 for a finished one, 202 raising an event that names the verified caller", async () => {
    const live = durableWith(running);
    const cancel = createLiveResponseCancel({ auth, now, durable: () => live.access });
    expect(await cancel(await request("POST", "lr-2", {}), ctx())).toMatchObject({ status: 404 });
    const res = (await cancel(
      await request("POST", "lr-1", { reason: "wrong host" }, { authorization: await bearer({ name: "analyst@contoso.com" }) }),
      ctx(),
    )) as Answer;
    expect(res.status).toBe(202);
    expect(live.raised).toHaveLength(1);
    const [instanceId, event, data] = live.raised[0]!;
    expect([instanceId, event]).toEqual(["lr-1", "CancelCollection"]);
    expect(data).toEqual({
      requestedBy: expect.stringMatching(/^analyst@contoso\.com \([0-9a-f-]{36}\)$/),
      requestedByObjectId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reason: "wrong host",
      requestedAt: "2026-03-02T10:00:00.000Z",
    });
    // What the endpoint raises is exactly what the orchestrator accepts.
    expect(parseCancelRequest(data)).toEqual(data);
    expect(res.jsonBody.cancellation).toEqual(data);

    const finished = createLiveResponseCancel({
      auth,
      now,
      durable: () => durableWith({ instanceId: "lr-1", runtimeStatus: "Completed" }).access,
    });
    expect(await finished(await request("POST", "lr-1", {}), ctx())).toMatchObject({
      status: 409,
      jsonBody: { error: { code: "CollectionFinished" } },
    });
  });

  it("400 naming any field but reason (a self-declared requestedBy included), with the name cut to 100 characters; nothing raised", async () => {
    const live = durableWith(running);
    const cancel = createLiveResponseCancel({ auth, now, durable: () => live.access });
    const byName = (await cancel(await request("POST", "lr-1", { reason: "x", requestedBy: "ceo@contoso.com" }), ctx())) as Answer;
    expect(byName).toMatchObject({
      status: 400,
      jsonBody: { error: { code: "InvalidRequest", details: [{ field: "requestedBy", message: expect.stringContaining("only reason") }] } },
    });
    const longName = "n".repeat(3_000);
    const long = (await cancel(await request("POST", "lr-1", { [longName]: 1 }), ctx())) as Answer;
    expect(long.status).toBe(400);
    expect(long.jsonBody.error.details[0].field).toBe(`${"n".repeat(100)}…`);
    expect(JSON.stringify(long.jsonBody).length).toBeLessThan(1000);
    const many = (await cancel(
      await request("POST", "lr-1", Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i]))),
      ctx(),
    )) as Answer;
    expect(many.jsonBody.error.details).toHaveLength(6);
    expect(live.raised).toEqual([]);
  });

  it("400 for a reason that is not a short one-line string", async () => {
    const live = durableWith(running);
    const cancel = createLiveResponseCancel({ auth, now, durable: () => live.access });
    for (const reason of [{ text: "x" }, "x".repeat(501), "wrong\u202ehost", "line\nbreak", ""]) {
      const res = (await cancel(await request("POST", "lr-1", { reason }), ctx())) as Answer;
      expect(res).toMatchObject({ status: 400, jsonBody: { error: { details: [{ field: "reason" }] } } });
    }
    expect((await cancel(await request("POST", "lr-1", "[]"), ctx())).status).toBe(400);
    expect(live.raised).toEqual([]);
  });

  it("403 without a role granting cancel", async () => {
    const live = durableWith(running);
    const cancel = createLiveResponseCancel({ auth, now, durable: () => live.access });
    const res = (await cancel(
      await request("POST", "lr-1", {}, { authorization: await bearer({ roles: ["Collector.Read", "Collector.Run"] }) }),
      ctx(),
    )) as Answer;
    expect(res).toMatchObject({
      status: 403,
      jsonBody: { error: { code: "Forbidden", message: expect.stringContaining("requires app role Collector.Cancel") } },
    });
    expect(live.raised).toEqual([]);
  });
});
