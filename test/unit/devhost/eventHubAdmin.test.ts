/**
 * What the local host adds for the streaming route: Event Hubs triggers run through the admin API
 * as the Functions host runs them (the input is one event's body; cardinality many delivers an
 * array of one message, try-parsed as JSON by the worker), and activities registered with a
 * durable client input get the engine's binding data, as the Durable extension binds it for any
 * function kind.
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { LocalHost } from "../../../devhost";

const batches: unknown[] = [];
const singles: unknown[] = [];
const defaults: unknown[] = [];

app.eventHub("ehMany", {
  connection: "EH",
  eventHubName: "hub",
  cardinality: "many",
  handler: async (messages: unknown) => void batches.push(messages),
});
app.eventHub("ehOne", {
  connection: "EH",
  eventHubName: "hub",
  cardinality: "one",
  handler: async (message: unknown) => void singles.push(message),
});

// No cardinality: the binding's default, many.
app.eventHub("ehDefault", { connection: "EH", eventHubName: "hub", handler: async (messages: unknown) => void defaults.push(messages) });

df.app.orchestration("ehChild", function* (context: OrchestrationContext) {
  const name: string = yield context.df.callActivity("ehName", "child");
  return `${name} done`;
});
df.app.activity("ehName", { handler: (input: string) => input });
df.app.orchestration("ehParent", function* (context: OrchestrationContext) {
  const childId: string = yield context.df.callActivity("ehStartChild", "go");
  return childId;
});
df.app.activity("ehStartChild", {
  extraInputs: [df.input.durableClient()],
  handler: async (_input: unknown, context: InvocationContext) => df.getClient(context).startNew("ehChild"),
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("LocalHost: Event Hubs triggers and activities with a durable client", () => {
  let host: LocalHost;
  beforeAll(async () => {
    host = await LocalHost.start({ port: 0, runTimers: false, functionLogger: () => {}, requestLogger: () => {}, settings: {} });
  });
  afterAll(() => host.stop());

  const admin = (name: string, body: unknown) =>
    fetch(`${host.origin}/admin/functions/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("delivers the admin input as a batch of one message to a cardinality-many trigger, parsed as JSON", async () => {
    const message = { records: [{ category: "AdvancedHunting-AlertInfo", properties: { AlertId: "da1_1" } }] };
    expect((await admin("ehMany", { input: JSON.stringify(message) })).status).toBe(202);
    expect(await waitFor(() => batches[0])).toEqual([message]);
    expect((await admin("ehMany", { input: "plain text" })).status).toBe(202);
    expect(await waitFor(() => batches[1])).toEqual(["plain text"]);
  });

  it("delivers the message itself to a cardinality-one trigger, and refuses an admin call without input", async () => {
    expect((await admin("ehOne", { input: '{"records":[]}' })).status).toBe(202);
    expect(await waitFor(() => singles[0])).toEqual({ records: [] });
    expect((await admin("ehOne", {})).status).toBe(400);
  });

  it("treats a trigger without a cardinality as many, the binding's default", async () => {
    expect((await admin("ehDefault", { input: '{"a":1}' })).status).toBe(202);
    expect(await waitFor(() => defaults[0])).toEqual([{ a: 1 }]);
  });

  it("lists an Event Hubs function with its hub and cardinality", async () => {
    const list = (await (await fetch(`${host.origin}/admin/functions`)).json()) as Array<Record<string, unknown>>;
    expect(list).toContainEqual(
      expect.objectContaining({
        name: "ehMany",
        trigger: "eventHubTrigger",
        eventHubName: "hub",
        cardinality: "many",
        admin: "/admin/functions/ehMany",
      }),
    );
  });

  it("binds an activity's durable client input, so the activity can start an orchestration", async () => {
    const parent = await host.engine.startNew("ehParent");
    const status = await host.engine.waitForCompletion(parent);
    expect(status.runtimeStatus).toBe("Completed");
    const childId = status.output as string;
    expect((await host.engine.waitForCompletion(childId)).output).toBe("child done");
  });
});
