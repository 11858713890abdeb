/**
 * The local host in process, on a free port, with toy functions of every trigger type it serves:
 * HTTP routes, the Durable HTTP API on the same port, Event Grid deliveries and handshakes, timer
 * schedules and the admin API. The real app over HTTP is test/e2e/npmStart.test.ts; what the host
 * refuses (foreign Host or Origin, non-JSON bodies, oversized bodies, durable functions on the admin
 * API) is test/unit/devhost/localHostGate.test.ts.
 */
import { app, type EventGridEvent, type HttpRequest, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import {
  defaultRegistry,
  findFunction,
  LocalHost,
  type FunctionRegistry,
  type RegisteredFunction,
  type RequestLogEntry,
} from "../../../devhost";
import { NcrontabError } from "../../../shared/ncrontab";

const timerCalls: Array<{ name: string; timer: Timer; startedId?: string }> = [];
const eventCalls: unknown[] = [];

df.app.orchestration("lhChain", function* (context: OrchestrationContext) {
  const who = context.df.getInput<string>();
  const upper: string = yield context.df.callActivity("lhUpper", who);
  return `hello ${upper}`;
});
df.app.activity("lhUpper", { handler: (input: string) => input.toUpperCase() });

app.http("lhHello", {
  route: "hello/{name}",
  methods: ["GET"],
  handler: async (request: HttpRequest) => ({ jsonBody: { hello: request.params.name, q: request.query.get("q") } }),
});
app.http("lhEcho", {
  route: "echo",
  methods: ["POST", "PUT"],
  handler: async (request: HttpRequest) => ({
    status: 201,
    headers: { "x-echo": request.headers.get("x-custom") ?? "" },
    body: await request.text(),
  }),
});
app.http("lhItem", {
  route: "items/{id}",
  methods: ["GET"],
  handler: async (request: HttpRequest) => ({ jsonBody: { item: request.params.id } }),
});
app.http("lhSpecialItem", { route: "items/special", methods: ["GET"], handler: async () => ({ jsonBody: { special: true } }) });
app.http("lhBroken", { route: "broken", methods: ["GET"], handler: async () => Promise.reject(new Error("boom")) });
app.http("lhStart", {
  route: "start/{orchestrator}",
  methods: ["POST"],
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const id = await client.startNew(request.params.orchestrator!, { input: await request.json() });
    return client.createCheckStatusResponse(request, id);
  },
});

// A timer and an Event Grid function that start orchestrations, as scheduledCollection/alertCollection will.
app.timer("lhTimer", {
  schedule: "%LH_SCHEDULE%",
  extraInputs: [df.input.durableClient()],
  handler: async (timer: Timer, context: InvocationContext) => {
    const startedId = await df.getClient(context).startNew("lhChain", { input: "timer" });
    timerCalls.push({ name: "lhTimer", timer, startedId });
  },
});
app.timer("lhStartupTimer", {
  schedule: "0 0 0 1 JAN *",
  runOnStartup: true,
  handler: async (timer: Timer) => void timerCalls.push({ name: "lhStartupTimer", timer }),
});
app.eventGrid("lhAlert", {
  handler: async (event: EventGridEvent) => {
    if ((event.data as { fail?: boolean } | undefined)?.fail) throw new Error("alert handler failed");
    eventCalls.push(event);
  },
});

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

const silent = () => {};

describe("LocalHost (in process, toy functions)", () => {
  let host: LocalHost;
  const requests: RequestLogEntry[] = [];

  beforeAll(async () => {
    // Timers off here: their schedule is tested on a host of its own below.
    host = await LocalHost.start({
      port: 0,
      runTimers: false,
      functionLogger: silent,
      requestLogger: (e) => requests.push(e),
      settings: { LH_SCHEDULE: "0 0 * * * *" },
    });
  });
  afterAll(() => host.stop());

  const url = (path: string) => `${host.origin}${path}`;

  describe("HTTP triggers at /api/<route>", () => {
    it("serves a route with its params and query", async () => {
      const res = await fetch(url("/api/hello/Ada?q=1"));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ hello: "Ada", q: "1" });
    });

    it("passes method, headers and body through and returns the handler's status and headers", async () => {
      const res = await fetch(url("/api/echo"), {
        method: "PUT",
        headers: { "x-custom": "yes", "content-type": "application/json" },
        body: '{"payload":1}',
      });
      expect(res.status).toBe(201);
      expect(res.headers.get("x-echo")).toBe("yes");
      expect(await res.text()).toBe('{"payload":1}');
    });

    it("prefers the more specific route, as the host's router does", async () => {
      expect(await (await fetch(url("/api/items/special"))).json()).toEqual({ special: true });
      expect(await (await fetch(url("/api/items/42"))).json()).toEqual({ item: "42" });
    });

    it("answers 404 JSON for an unknown route and 405 with Allow for a method the function does not declare", async () => {
      const missing = await fetch(url("/api/nothing/here"));
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: "NotFound" });
      const wrong = await fetch(url("/api/hello/Ada"), { method: "DELETE" });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET");
      expect((await fetch(url("/elsewhere"))).status).toBe(404);
    });

    it("answers 500 when the handler throws", async () => {
      expect((await fetch(url("/api/broken"))).status).toBe(500);
    });
  });

  describe("the Durable HTTP API on the same port", () => {
    it("a starter's 202 links point at this host and following them reaches Completed", async () => {
      const res = await fetch(url("/api/start/lhChain"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '"ada"',
      });
      expect(res.status).toBe(202);
      const links = (await res.json()) as { id: string; statusQueryGetUri: string };
      expect(links.statusQueryGetUri.startsWith(`${host.origin}/runtime/webhooks/durabletask/instances/${links.id}?`)).toBe(true);
      expect(res.headers.get("location")).toBe(links.statusQueryGetUri);
      const done = await waitFor(async () => {
        const s = await fetch(links.statusQueryGetUri);
        return s.status === 200 ? ((await s.json()) as { runtimeStatus: string; output: unknown }) : undefined;
      });
      expect(done).toMatchObject({ runtimeStatus: "Completed", output: "hello ADA" });
    });
  });

  describe("Event Grid webhook", () => {
    const webhook = (name: string) => url(`/runtime/webhooks/EventGrid?functionName=${name}`);
    // Shapes from Microsoft's Event Grid schema docs (event-schema, webhook-event-delivery).
    const gridEvent = (id: string, data: Record<string, unknown> = {}) => ({
      id,
      topic: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.SecurityInsights/alerts",
      subject: "alerts/1",
      eventType: "Microsoft.Security.Alert",
      eventTime: "2026-03-02T09:00:00Z",
      data,
      dataVersion: "1",
      metadataVersion: "1",
    });

    beforeEach(() => (eventCalls.length = 0));

    it("completes the Event Grid schema validation handshake without invoking the function", async () => {
      const res = await fetch(webhook("lhAlert"), {
        method: "POST",
        headers: { "aeg-event-type": "SubscriptionValidation", "content-type": "application/json" },
        body: JSON.stringify([
          {
            id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
            topic: "/subscriptions/xx/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t",
            subject: "",
            data: {
              validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
              validationUrl: "https://rp-eastus2.eventgrid.azure.net/validate?id=x&t=y",
            },
            eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
            eventTime: "2026-03-02T09:00:00Z",
            metadataVersion: "1",
            dataVersion: "1",
          },
        ]),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
      expect(eventCalls).toEqual([]);
    });

    it("invokes the function once per event of an Event Grid schema delivery and answers 202", async () => {
      const events = [gridEvent("e1", { n: 1 }), gridEvent("e2", { n: 2 })];
      const res = await fetch(webhook("lhAlert"), {
        method: "POST",
        headers: { "aeg-event-type": "Notification", "content-type": "application/json" },
        body: JSON.stringify(events),
      });
      expect(res.status).toBe(202);
      expect(eventCalls).toEqual(events);
    });

    it("accepts CloudEvents, single and batch, and answers the OPTIONS abuse-protection handshake", async () => {
      const cloudEvent = (id: string) => ({
        specversion: "1.0",
        type: "Microsoft.Security.Alert",
        source: "/alerts",
        id,
        time: "2026-03-02T09:00:00Z",
        data: { id },
      });
      const single = await fetch(webhook("lhAlert"), {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json; charset=utf-8" },
        body: JSON.stringify(cloudEvent("c1")),
      });
      expect(single.status).toBe(202);
      const batch = await fetch(webhook("lhAlert"), {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: JSON.stringify([cloudEvent("c2"), cloudEvent("c3")]),
      });
      expect(batch.status).toBe(202);
      expect(eventCalls.map((e) => (e as { id: string }).id)).toEqual(["c1", "c2", "c3"]);

      const handshake = await fetch(webhook("lhAlert"), {
        method: "OPTIONS",
        headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
      });
      expect(handshake.status).toBe(200);
      expect(handshake.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
      expect((await fetch(webhook("lhAlert"), { method: "OPTIONS" })).status).toBe(400);
    });

    it("answers 500 when an invocation fails, so Event Grid redelivers", async () => {
      const res = await fetch(webhook("lhAlert"), {
        method: "POST",
        headers: { "aeg-event-type": "Notification" },
        body: JSON.stringify([gridEvent("ok"), gridEvent("bad", { fail: true })]),
      });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain("alert handler failed");
    });

    it("answers 404 for an unknown function or one that is not an eventGridTrigger, 400 without an event type", async () => {
      expect(findFunction("lhAlert", "eventGridTrigger")).toBeDefined();
      expect(findFunction("lhTimer", "eventGridTrigger")).toBeUndefined();
      const body = JSON.stringify([gridEvent("x")]);
      const headers = { "aeg-event-type": "Notification" };
      expect((await fetch(webhook("nope"), { method: "POST", headers, body })).status).toBe(404);
      expect((await fetch(webhook("lhTimer"), { method: "POST", headers, body })).status).toBe(404);
      expect((await fetch(webhook("lhAlert"), { method: "POST", headers: { "content-type": "application/json" }, body })).status).toBe(400);
      expect(eventCalls).toEqual([]);
    });
  });

  describe("admin API", () => {
    const invoke = (name: string, body?: unknown) =>
      fetch(url(`/admin/functions/${name}`), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it("runs a timer function on demand with a timer object, answering 202 (its durable client works too)", async () => {
      timerCalls.length = 0;
      expect(findFunction("lhTimer", "timerTrigger")).toBeDefined();
      expect((await invoke("lhTimer", { input: "" })).status).toBe(202);
      const call = await waitFor(() => timerCalls.find((c) => c.name === "lhTimer"));
      expect(call.timer).toMatchObject({ isPastDue: false, scheduleStatus: { next: expect.stringMatching(/:00:00\.000Z$/) } });
      expect((await host.engine.waitForCompletion(call.startedId!)).output).toBe("hello TIMER");
    });

    it("runs an Event Grid function with the input parsed as the event", async () => {
      eventCalls.length = 0;
      expect((await invoke("lhAlert", { input: JSON.stringify({ id: "admin-1", data: {} }) })).status).toBe(202);
      expect(await waitFor(() => eventCalls[0])).toEqual({ id: "admin-1", data: {} });
    });

    it("refuses unknown functions (404), HTTP and orchestrator functions (400), and lists what is registered", async () => {
      expect((await invoke("nope", {})).status).toBe(404);
      expect((await invoke("lhHello", {})).status).toBe(400);
      expect((await invoke("lhChain", {})).status).toBe(400);
      const list = (await (await fetch(url("/admin/functions"))).json()) as Array<{ name: string; trigger: string }>;
      expect(list).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: "lhHello", trigger: "httpTrigger", route: "/api/hello/{name}", methods: ["GET"] }),
          expect.objectContaining({ name: "lhTimer", trigger: "timerTrigger", schedule: "%LH_SCHEDULE%" }),
          expect.objectContaining({
            name: "lhAlert",
            trigger: "eventGridTrigger",
            webhook: "/runtime/webhooks/EventGrid?functionName=lhAlert",
          }),
        ]),
      );
    });
  });

  it("logs one JSON line per request with method, path, status and duration, never the query string", async () => {
    requests.length = 0;
    await fetch(url("/api/hello/Bob?sig=SECRETSIGNATURE&se=2026"));
    await waitFor(() => requests[0]);
    expect(requests[0]).toEqual({
      method: "GET",
      path: "/api/hello/Bob",
      status: 200,
      durationMs: expect.any(Number),
      function: "lhHello",
    });
    expect(JSON.stringify(requests)).not.toContain("SECRET");
  });
});

describe("LocalHost timers", () => {
  it("fires timer triggers on their NCRONTAB schedule (resolved from %SETTING%) and runOnStartup ones at start", async () => {
    timerCalls.length = 0;
    const host = await LocalHost.start({
      port: 0,
      functionLogger: silent,
      requestLogger: silent,
      settings: { LH_SCHEDULE: "* * * * * *" },
    });
    try {
      const startup = await waitFor(() => timerCalls.find((c) => c.name === "lhStartupTimer"), 1000);
      expect(startup.timer.isPastDue).toBe(false);
      const scheduled = await waitFor(
        () => (timerCalls.filter((c) => c.name === "lhTimer").length >= 2 ? timerCalls.filter((c) => c.name === "lhTimer") : undefined),
        3500,
      );
      const [first, second] = scheduled.map((c) => Date.parse(c.timer.scheduleStatus.lastUpdated));
      expect(second! - first!).toBeGreaterThanOrEqual(900);
      expect(host.timers.schedules().find((s) => s.name === "lhTimer")).toMatchObject({ schedule: "* * * * * *", next: expect.any(Date) });
    } finally {
      await host.stop();
    }
    expect(timerCalls.filter((c) => c.name === "lhStartupTimer")).toHaveLength(1);
  });

  it("refuses to start when a schedule is invalid or its setting is missing, naming the function", async () => {
    const timer = findFunction("lhTimer")!;
    const registry = (schedule: string): FunctionRegistry => {
      const fn: RegisteredFunction = { ...timer, trigger: { ...timer.trigger, schedule } };
      return { getRegisteredFunctions: () => [fn], findFunction: (name) => (name === fn.name ? fn : undefined) };
    };
    await expect(LocalHost.start({ port: 0, registry: registry("0 0 25 * * *"), functionLogger: silent })).rejects.toThrow(NcrontabError);
    await expect(LocalHost.start({ port: 0, registry: registry("%MISSING%"), settings: {}, functionLogger: silent })).rejects.toThrow(
      /lhTimer.*MISSING/,
    );
    expect(defaultRegistry.findFunction("lhTimer")?.trigger.schedule).toBe("%LH_SCHEDULE%");
  });
});
