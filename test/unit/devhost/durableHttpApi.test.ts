import "../../support/toyApp/toyApp";
import { DurableEngine, DurableHttpApi, INSTANCE_ID_PLACEHOLDER, invokeHttp, matchRoute, VirtualClock, WallClock } from "../../../devhost";

describe("DurableHttpApi with the real DurableClient", () => {
  let engine: DurableEngine;
  let api: DurableHttpApi;

  beforeEach(async () => {
    engine = new DurableEngine({ clock: new VirtualClock("2026-03-01T08:00:00.000Z") });
    api = new DurableHttpApi(engine);
    await api.start();
  });
  afterEach(() => api.stop());

  it("hands out binding data with the extension's placeholder and an RPC base", () => {
    const data = api.bindingData();
    expect(data.managementUrls.id).toBe(INSTANCE_ID_PLACEHOLDER);
    expect(data.managementUrls.statusQueryGetUri).toBe(
      `${api.origin}/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=TestHubName&connection=Storage`,
    );
    expect(data.rpcBaseUrl).toBe(`${api.origin}/durabletask/`);
  });

  it("starts through an HTTP starter: 202 with links that work", async () => {
    const res = await invokeHttp("toyStart", { durable: api, path: "/api/orchestrators/toyChain" });
    expect(res.status).toBe(202);
    expect(res.headers["retry-after"]).toBe("10");
    const links = res.jsonBody as { id: string; statusQueryGetUri: string; terminatePostUri: string };
    expect(res.headers.location).toBe(links.statusQueryGetUri);
    expect(links.statusQueryGetUri.startsWith(`${api.origin}/runtime/webhooks/durabletask/instances/${links.id}?`)).toBe(true);
    expect(links.terminatePostUri).toContain("/terminate?reason={text}&");

    const pending = await fetch(links.statusQueryGetUri);
    expect(pending.status).toBe(202);
    expect(await pending.json()).toMatchObject({ name: "toyChain", instanceId: links.id, runtimeStatus: "Pending" });

    await engine.runUntilIdle();
    const done = await fetch(links.statusQueryGetUri);
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({
      runtimeStatus: "Completed",
      output: ["Hello Tokyo", "Hello Seattle", "Hello London"],
      createdTime: "2026-03-01T08:00:00Z",
    });
  });

  it("passes the starter's input and serves getStatus, raiseEvent, terminate and purge through the client", async () => {
    const started = await invokeHttp("toyStart", { durable: api, path: "/api/orchestrators/toyStatus", body: { who: "http" } });
    const id = (started.jsonBody as { id: string }).id;
    await engine.runUntilIdle();

    const status = await invokeHttp("toyOps", { durable: api, path: `/api/ops/${id}/status` });
    expect(status.jsonBody).toMatchObject({
      instanceId: id,
      runtimeStatus: "Running",
      input: { who: "http" },
      customStatus: { stage: "waiting" },
    });

    const listed = await invokeHttp("toyOps", { durable: api, path: `/api/ops/${id}/list` });
    expect((listed.jsonBody as Array<{ instanceId: string }>).map((s) => s.instanceId)).toEqual([id]);

    expect((await invokeHttp("toyOps", { durable: api, path: `/api/ops/${id}/raise` })).status).toBe(202);
    await engine.runUntilIdle();
    expect(engine.getStatus(id)).toMatchObject({ runtimeStatus: "Completed", output: { from: "client" } });

    expect((await invokeHttp("toyOps", { durable: api, path: `/api/ops/${id}/purge` })).jsonBody).toEqual({ instancesDeleted: 1 });
    expect(engine.getStatus(id)).toBeUndefined();
  });

  it("terminates through the client and through the public terminate link", async () => {
    const a = await engine.startNew("toyStatus");
    const b = await engine.startNew("toyStatus");
    await engine.runUntilIdle();
    expect((await invokeHttp("toyOps", { durable: api, path: `/api/ops/${a}/terminate` })).status).toBe(202);
    expect(engine.getStatus(a)).toMatchObject({ runtimeStatus: "Terminated", output: "operator said stop" });

    const terminateUri = api.bindingData().managementUrls.terminatePostUri.replace(INSTANCE_ID_PLACEHOLDER, b).replace("{text}", "bye");
    expect((await fetch(terminateUri, { method: "POST" })).status).toBe(202);
    expect((await fetch(terminateUri, { method: "POST" })).status).toBe(410);
    expect(engine.getStatus(b)?.output).toBe("bye");
  });

  it("answers like the extension for unknown ids, conflicts and bad requests", async () => {
    const base = api.rpcBaseUrl;
    expect((await fetch(`${base}instances/missing`)).status).toBe(404);
    expect((await fetch(`${base}orchestrators/nope`, { method: "POST" })).status).toBe(400);
    const id = await engine.startNew("toyStatus", { instanceId: "dup" });
    expect((await fetch(`${base}orchestrators/toyStatus/dup`, { method: "POST" })).status).toBe(409);
    expect((await fetch(`${base}instances/${id}`, { method: "DELETE" })).status).toBe(412);
    const raise = await fetch(`${base}instances/${id}/raiseEvent/go`, { method: "POST", body: "1" });
    expect(raise.status).toBe(400); // no application/json content type
    const sent = await fetch(`${base}instances/${id}/raiseEvent/go`, {
      method: "POST",
      body: "1",
      headers: { "content-type": "application/json" },
    });
    expect(sent.status).toBe(202);
    await engine.runUntilIdle();
    expect(engine.getStatus(id)?.output).toBe(1);
  });
});

describe("matchRoute", () => {
  it("matches templates with optional, constrained and catch-all params", () => {
    expect(matchRoute("orchestrators/{name}/{id?}", "orchestrators/a")).toEqual({ name: "a" });
    expect(matchRoute("items/{id:int}", "items/42")).toEqual({ id: "42" });
    expect(matchRoute("files/{*rest}", "files/a/b.txt")).toEqual({ rest: "a/b.txt" });
    expect(matchRoute("items/{id}", "other/1")).toBeUndefined();
  });
});

describe("DurableEngine on the wall clock", () => {
  it("runs a 50 ms timer in real time after start()", async () => {
    const engine = new DurableEngine({ clock: new WallClock() });
    engine.start();
    try {
      const began = Date.now();
      const id = await engine.startNew("toyTimer", { input: { delayMs: 50 } });
      const status = await engine.waitForCompletion(id, { timeoutMs: 5000 });
      const elapsed = Date.now() - began;
      expect(status.runtimeStatus).toBe("Completed");
      const { start, end } = status.output as { start: string; end: string };
      expect(Date.parse(end) - Date.parse(start)).toBeGreaterThanOrEqual(50);
      expect(elapsed).toBeGreaterThanOrEqual(45);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      await engine.stop();
    }
  });
});
