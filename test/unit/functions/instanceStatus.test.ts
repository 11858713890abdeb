import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { hostDurableAccess } from "../../../functions/durableAccess";
import { readInstanceStatus, rpcBaseUrlOf } from "../../../functions/instanceStatus";
import { DurableEngine, DurableHttpApi, VirtualClock } from "../../../devhost";
import { contextWithDurableClient } from "../../support/durableContext";

// Started, never run: the virtual clock stands still.
df.app.orchestration("instanceStatusProbe", function* (context) {
  yield context.df.callActivity("none");
});

describe("hostDurableAccess against the Durable HTTP API, with the real DurableClient", () => {
  let api: DurableHttpApi;
  beforeAll(async () => {
    api = new DurableHttpApi(new DurableEngine({ clock: new VirtualClock("2026-03-02T02:00:00.000Z") }));
    await api.start();
  });
  afterAll(() => api.stop());

  it("finds an instance the client started, with its input and times as Dates", async () => {
    const durable = hostDurableAccess(contextWithDurableClient(api.bindingData()));
    await durable.client.startNew("instanceStatusProbe", { instanceId: "lr-found", input: { machineId: "m1" } });
    const status = await durable.findStatus("lr-found");
    expect(status).toMatchObject({
      name: "instanceStatusProbe",
      instanceId: "lr-found",
      runtimeStatus: "Pending",
      input: { machineId: "m1" },
    });
    expect(status!.createdTime).toEqual(new Date("2026-03-02T02:00:00.000Z"));
  });

  it("answers undefined for an instance the extension answers 404 for, which the client's getStatus reports only as a plain Error", async () => {
    const durable = hostDurableAccess(contextWithDurableClient(api.bindingData()));
    expect(await durable.findStatus("lr-missing")).toBeUndefined();
    const thrown = await durable.client.getStatus("lr-missing").catch((e: unknown) => e);
    expect(Object.getPrototypeOf(thrown)).toBe(Error.prototype);
    expect(Object.keys(thrown as object)).toEqual([]);
  });
});

describe("readInstanceStatus reads the status code, not a message", () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, { status: number; body: string }>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const id = decodeURIComponent(new URL(req.url!, "http://x").pathname.split("/").pop()!);
      const answer = answers.get(id) ?? { status: 404, body: "" };
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/durabletask/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const status = (runtimeStatus: string) =>
    JSON.stringify({
      name: "collectEvidence",
      instanceId: "x",
      runtimeStatus,
      input: null,
      output: "boom",
      createdTime: "2026-03-02T02:00:00Z",
      lastUpdatedTime: "2026-03-02T02:05:00Z",
    });

  it("throws for a 500 even when its body mentions 404", async () => {
    answers.set("lr-500", { status: 500, body: JSON.stringify({ Message: "upstream answered 404" }) });
    await expect(readInstanceStatus(base, "lr-500")).rejects.toMatchObject({
      code: "DurableStatusFailed",
      message: expect.stringContaining("answered 500"),
    });
  });

  it("reads the status a 400 carries (a failed or terminated instance)", async () => {
    answers.set("lr-400", { status: 400, body: status("Failed") });
    expect(await readInstanceStatus(base, "lr-400")).toMatchObject({
      runtimeStatus: "Failed",
      output: "boom",
      lastUpdatedTime: new Date("2026-03-02T02:05:00Z"),
    });
  });

  it("throws for a body that is not a status", async () => {
    answers.set("lr-bad", { status: 200, body: JSON.stringify({ runtimeStatus: "Running" }) });
    answers.set("lr-text", { status: 202, body: "not json" });
    await expect(readInstanceStatus(base, "lr-bad")).rejects.toMatchObject({ code: "DurableStatusInvalid" });
    await expect(readInstanceStatus(base, "lr-text")).rejects.toMatchObject({ code: "DurableStatusInvalid" });
  });
});

describe("rpcBaseUrlOf", () => {
  it("names the function when it has no durable client binding with an rpcBaseUrl", () => {
    const bare = new InvocationContext({ functionName: "liveResponseStatus", logHandler: () => {} });
    expect(() => rpcBaseUrlOf(bare)).toThrow(
      expect.objectContaining({ code: "DurableClientBindingMissing", message: expect.stringContaining("liveResponseStatus") }),
    );
    expect(() => rpcBaseUrlOf(contextWithDurableClient({ taskHubName: "hub" }))).toThrow(
      expect.objectContaining({ code: "DurableClientBindingMissing" }),
    );
  });
});
