/**
 * What the local host refuses before any function runs, so a web page open in the developer's
 * browser cannot drive `npm start` while it points at a real tenant: a foreign Host (DNS
 * rebinding) or Origin (CSRF), a body not declared JSON, a body past the limit (declared or
 * chunked), and activities or orchestrators on the admin API. Links name the configured origin.
 */
import { connect } from "node:net";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { app, type EventGridEvent, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { LocalHost } from "../../../devhost";

const handled: string[] = [];
const activityCalls: unknown[] = [];
const eventCalls: unknown[] = [];

df.app.orchestration("gateChain", function* (context: OrchestrationContext) {
  return yield context.df.callActivity("gateActivity", context.df.getInput<string>());
});
df.app.activity("gateActivity", { handler: (input: unknown) => (activityCalls.push(input), "done") });
app.http("gateStart", {
  route: "start",
  methods: ["POST", "PUT", "PATCH"],
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    handled.push(await request.text());
    const client = df.getClient(context);
    return client.createCheckStatusResponse(request, await client.startNew("gateChain", { input: "x" }));
  },
});
app.http("gateRead", {
  route: "read",
  methods: ["GET", "POST"],
  handler: async (request: HttpRequest) => (handled.push(await request.text()), { jsonBody: { ok: true } }),
});
app.eventGrid("gateAlert", { handler: async (event: EventGridEvent) => void eventCalls.push(event) });
app.timer("gateTimer", { schedule: "0 0 0 1 JAN *", handler: async () => void handled.push("timer") });

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One request over node:http, so Host can be set and a body streamed chunk by chunk. A chunked
 * body is written until the answer arrives (or `maxChunks`), as an endless upload would be.
 */
function raw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunk?: Buffer; maxChunks?: number } = {},
): Promise<RawAnswer & { chunksSent: number }> {
  return new Promise((resolve, reject) => {
    let chunksSent = 0;
    let answered = false;
    const req = httpRequest({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers }, (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text, chunksSent }));
      res.on("error", reject);
    });
    // Writing after the server answered and closed may fail; the answer is what is asserted.
    req.on("error", (e) => (answered ? undefined : reject(e)));
    if (options.chunk) {
      const pump = () => {
        while (!answered && chunksSent < (options.maxChunks ?? 1000)) {
          chunksSent++;
          if (!req.write(options.chunk)) return void req.once("drain", pump);
        }
        if (!answered) req.end();
      };
      pump();
    } else req.end(options.body);
  });
}

const JSON_TYPE = { "content-type": "application/json" };
const silent = () => {};

describe("LocalHost gate", () => {
  let host: LocalHost;
  let port: number;
  const url = (path: string) => `${host.origin}${path}`;
  const instances = () => host.engine.listInstances({}).length;

  beforeAll(async () => {
    host = await LocalHost.start({ port: 0, runTimers: false, functionLogger: silent, requestLogger: silent, maxBodyBytes: 64 * 1024 });
    port = Number(new URL(host.origin).port);
  });
  afterAll(() => host.stop());
  beforeEach(() => {
    handled.length = 0;
    activityCalls.length = 0;
    eventCalls.length = 0;
  });

  describe("content type (415)", () => {
    it.each([
      ["text/plain (what a web page's simple POST sends)", "text/plain;charset=UTF-8"],
      ["a form", "application/x-www-form-urlencoded"],
      ["multipart", "multipart/form-data; boundary=x"],
      ["XML", "application/xml"],
      ["a JSON look-alike", "application/jsonp"],
    ])("refuses %s on POST, PUT and PATCH to the API and starts nothing", async (_name, type) => {
      const before = instances();
      for (const method of ["POST", "PUT", "PATCH"]) {
        const res = await fetch(url("/api/start"), { method, headers: { "content-type": type }, body: '{"machineId":"x"}' });
        expect(res.status).toBe(415);
        expect(await res.json()).toMatchObject({ error: "UnsupportedMediaType" });
      }
      expect(handled).toEqual([]);
      expect(instances()).toBe(before);
    });

    it("refuses a body sent without any content type, and accepts a bodiless POST", async () => {
      const res = await raw(port, "/api/read", { method: "POST", body: '{"a":1}' });
      expect(res.status).toBe(415);
      expect((await fetch(url("/api/read"), { method: "POST" })).status).toBe(200);
      expect(handled).toEqual([""]);
    });

    it("accepts application/json with parameters and any +json type", async () => {
      for (const type of [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/merge-patch+json",
        "application/vnd.collector.v1+json",
      ]) {
        expect((await fetch(url("/api/read"), { method: "POST", headers: { "content-type": type }, body: "{}" })).status).toBe(200);
      }
    });

    it("applies to the admin API and the Durable HTTP API, not to Event Grid's own content types", async () => {
      expect(
        (
          await fetch(url("/admin/functions/gateTimer"), {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: '{"input":""}',
          })
        ).status,
      ).toBe(415);
      const durableStart = await fetch(url("/runtime/webhooks/durabletask/orchestrators/gateChain"), {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: '"x"',
      });
      expect(durableStart.status).toBe(415);
      expect(handled).toEqual([]);
      const cloudEvent = { specversion: "1.0", type: "t", source: "/s", id: "c1", data: {} };
      const delivered = await fetch(url("/runtime/webhooks/EventGrid?functionName=gateAlert"), {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify(cloudEvent),
      });
      expect(delivered.status).toBe(202);
    });
  });

  describe("Origin (403) and Host (421)", () => {
    it.each([
      ["/api/start", "POST"],
      ["/api/read", "GET"],
      ["/admin/functions/gateTimer", "POST"],
      ["/runtime/webhooks/durabletask/instances", "GET"],
      ["/runtime/webhooks/durabletask/orchestrators/gateChain", "POST"],
      ["/runtime/webhooks/EventGrid?functionName=gateAlert", "POST"],
    ])("refuses %s (%s) from a foreign origin, running nothing", async (path, method) => {
      const before = instances();
      for (const origin of ["https://evil.example", "null", "http://127.0.0.1:1", `https://127.0.0.1:${port}`]) {
        const res = await fetch(url(path), {
          method,
          headers: { ...JSON_TYPE, origin, "aeg-event-type": "Notification" },
          body: method === "GET" ? undefined : '{"input":""}',
        });
        expect(res.status).toBe(403);
      }
      expect(handled).toEqual([]);
      expect(eventCalls).toEqual([]);
      expect(instances()).toBe(before);
    });

    it("accepts its own origin, its loopback aliases on the same port, and no Origin at all", async () => {
      for (const origin of [host.origin, `http://localhost:${port}`, `http://[::1]:${port}`]) {
        expect((await fetch(url("/api/read"), { headers: { origin } })).status).toBe(200);
      }
      expect((await fetch(url("/api/read"))).status).toBe(200);
    });

    it("refuses a Host that is not this host (DNS rebinding) and accepts localhost on its port", async () => {
      for (const hostHeader of ["evil.example", `evil.example:${port}`, "127.0.0.1:1", `localhost.evil.example:${port}`]) {
        expect((await raw(port, "/runtime/webhooks/durabletask/instances", { headers: { host: hostHeader } })).status).toBe(421);
        expect((await raw(port, "/api/read", { headers: { host: hostHeader } })).status).toBe(421);
      }
      expect((await raw(port, "/api/read", { headers: { host: `localhost:${port}` } })).status).toBe(200);
    });
  });

  it("answers 400 to a path whose %-escapes do not decode, on every route", async () => {
    for (const path of ["/api/read%E0", "/admin/functions/%E0%A4%A", "/runtime/webhooks/durabletask/instances/%FF"]) {
      expect((await fetch(url(path))).status).toBe(400);
    }
  });

  describe("links", () => {
    it("builds a starter's links from the configured origin, not from the Host header", async () => {
      const res = await raw(port, "/api/start", { method: "POST", headers: { ...JSON_TYPE, host: `localhost:${port}` }, body: "{}" });
      expect(res.status).toBe(202);
      const links = JSON.parse(res.text) as Record<string, string>;
      for (const key of ["statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri"]) {
        expect(new URL(links[key]!).origin).toBe(host.origin);
      }
      expect(res.headers.location!.startsWith(`${host.origin}/`)).toBe(true);
    });

    it("builds the Durable HTTP API's links from the configured origin too", async () => {
      const res = await raw(port, "/runtime/webhooks/durabletask/orchestrators/gateChain", {
        method: "POST",
        headers: { ...JSON_TYPE, host: `localhost:${port}` },
        body: '"y"',
      });
      expect(res.status).toBe(202);
      expect(new URL((JSON.parse(res.text) as { statusQueryGetUri: string }).statusQueryGetUri).origin).toBe(host.origin);
    });
  });

  describe("admin API", () => {
    const invoke = (name: string, input: string) =>
      fetch(url(`/admin/functions/${name}`), { method: "POST", headers: JSON_TYPE, body: JSON.stringify({ input }) });

    it("refuses to run an activity with an input of the caller's choosing (400) and runs nothing", async () => {
      const res = await invoke("gateActivity", '{"machineId":"chosen-by-caller"}');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/activityTrigger/);
      await new Promise((r) => setTimeout(r, 50));
      // Orchestrations started by other tests call the activity too; none with this input.
      expect(JSON.stringify(activityCalls)).not.toContain("chosen-by-caller");
    });

    it("refuses an orchestrator (400) and still runs a timer (202)", async () => {
      const before = instances();
      expect((await invoke("gateChain", '"x"')).status).toBe(400);
      expect(instances()).toBe(before);
      expect((await invoke("gateTimer", "")).status).toBe(202);
    });
  });

  describe("body limits (413)", () => {
    const grid = "/runtime/webhooks/EventGrid?functionName=gateAlert";
    const gridHeaders = { ...JSON_TYPE, "aeg-event-type": "Notification" };
    /** An Event Grid batch of about `bytes` bytes. */
    const batchOf = (bytes: number) =>
      JSON.stringify([{ id: "big", eventType: "t", subject: "s", data: { pad: "p".repeat(bytes) }, dataVersion: "1" }]);

    it("refuses an Event Grid delivery over 1 MB, declared or chunked, and invokes nothing", async () => {
      const declared = await fetch(url(grid), { method: "POST", headers: gridHeaders, body: batchOf(1024 * 1024 + 1) });
      expect(declared.status).toBe(413);
      const chunked = await raw(port, grid, {
        method: "POST",
        headers: { ...gridHeaders, "transfer-encoding": "chunked" },
        chunk: Buffer.alloc(64 * 1024, 0x20),
        maxChunks: 64,
      });
      expect(chunked.status).toBe(413);
      // Read until just past the limit, not to the end: 1 MB is 16 chunks of 64 KB.
      expect(chunked.chunksSent).toBeLessThan(64);
      expect(eventCalls).toEqual([]);
    });

    it("stops reading from a client that ignores the 413 and keeps sending after at most 1 MiB more, and closes its connection", async () => {
      const socket = connect(port, "127.0.0.1");
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      socket.on("data", () => {}); // the 413 is read and ignored, as a careless client would
      socket.write(
        `POST ${grid} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
          `aeg-event-type: Notification\r\ntransfer-encoding: chunked\r\n\r\n`,
      );
      const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(64 * 1024, 0x20), Buffer.from("\r\n")]);
      let sent = 0;
      const closed = new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.once("error", () => resolve());
      });
      let open = true;
      void closed.then(() => (open = false));
      // Up to 256 MiB: without a bound the host would discard for its whole linger second.
      while (open && sent < 256 * 1024 * 1024) {
        sent += chunk.length;
        if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once("drain", r)), closed]);
      }
      await closed;
      // 1 MiB read, 1 MiB discarded, the rest in the kernel's socket buffers on the way.
      expect(sent).toBeLessThan(32 * 1024 * 1024);
      expect(eventCalls).toEqual([]);
    });

    it("accepts an Event Grid delivery under 1 MB", async () => {
      expect((await fetch(url(grid), { method: "POST", headers: gridHeaders, body: batchOf(900 * 1024) })).status).toBe(202);
      expect(eventCalls).toHaveLength(1);
    });

    it("refuses an API body over the host's limit, declared or chunked, before the function runs", async () => {
      expect((await fetch(url("/api/read"), { method: "POST", headers: JSON_TYPE, body: `"${"a".repeat(64 * 1024)}"` })).status).toBe(413);
      const chunked = await raw(port, "/api/read", {
        method: "POST",
        headers: { ...JSON_TYPE, "transfer-encoding": "chunked" },
        chunk: Buffer.alloc(16 * 1024, 0x20),
        maxChunks: 1000,
      });
      expect(chunked.status).toBe(413);
      expect(chunked.chunksSent).toBeLessThan(1000);
      expect(handled).toEqual([]);
      // The host still serves afterwards.
      expect((await fetch(url("/api/read"))).status).toBe(200);
    });
  });
});
