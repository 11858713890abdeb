import * as df from "durable-functions";
import { hostDurableAccess } from "../../../functions/durableAccess";
import { checkInFlight } from "../../../functions/inFlightLimit";
import type { InstanceInFlight } from "../../../functions/instanceStatus";
import { DurableEngine, DurableHttpApi, VirtualClock } from "../../../devhost";
import { contextWithDurableClient } from "../../support/durableContext";

// Started, never run: the virtual clock stands still, so every instance stays Pending.
df.app.orchestration("inFlightProbe", function* (context) {
  yield context.df.callActivity("none");
});

describe("DurableAccess.inFlight over the Durable HTTP API's instance query", () => {
  let api: DurableHttpApi;
  beforeAll(async () => {
    api = new DurableHttpApi(new DurableEngine({ clock: new VirtualClock("2026-03-02T02:00:00.000Z") }));
    await api.start();
  });
  afterAll(() => api.stop());

  it("lists every instance still in flight with its input across pages of 100, and none that ended", async () => {
    const durable = hostDurableAccess(contextWithDurableClient(api.bindingData()));
    for (let i = 0; i < 230; i++) await durable.client.startNew("inFlightProbe", { instanceId: `lr-${i}`, input: { n: i } });
    await durable.client.terminate("lr-7", "test");
    const seen: InstanceInFlight[] = [];
    for await (const instance of durable.inFlight()) seen.push(instance);
    expect(seen).toHaveLength(229);
    expect(seen.find((s) => s.instanceId === "lr-7")).toBeUndefined();
    expect(seen.find((s) => s.instanceId === "lr-229")).toEqual({ instanceId: "lr-229", name: "inFlightProbe", input: { n: 229 } });
  });

  it("devhost answers the query in pages with a continuation token, and honours showInput=false", async () => {
    const page = await fetch(new URL("instances/?runtimeStatus=Pending,Running&top=100&showInput=false", api.rpcBaseUrl));
    const body = (await page.json()) as { input: unknown }[];
    expect(body).toHaveLength(100);
    expect(body.every((s) => s.input === null)).toBe(true);
    const token = page.headers.get("x-ms-continuation-token");
    expect(token).toBeTruthy();
    const next = await fetch(new URL("instances/?runtimeStatus=Pending,Running&top=100", api.rpcBaseUrl), {
      headers: { "x-ms-continuation-token": token! },
    });
    expect(((await next.json()) as unknown[]).length).toBe(100);
    const none = await fetch(new URL("instances/?runtimeStatus=ContinuedAsNew", api.rpcBaseUrl));
    expect(await none.json()).toEqual([]);
  });
});

describe("checkInFlight", () => {
  const webhook = (objectId: string) => ({ request: { trigger: { kind: "webhook", caller: { objectId } } } });
  /** Yields `n` instances, counting how many were pulled. */
  function instances(n: number, input: (i: number) => unknown) {
    const pulled = { count: 0 };
    async function* gen() {
      for (let i = 0; i < n; i++) {
        pulled.count += 1;
        yield { instanceId: `i-${i}`, input: input(i) };
      }
    }
    return { pulled, iterable: gen() };
  }

  it("refuses at the total limit, counting every trigger kind, and stops reading there", async () => {
    const { pulled, iterable } = instances(10_000, (i) => (i % 2 ? webhook("a") : { request: { trigger: { kind: "schedule" } } }));
    expect(await checkInFlight(iterable, "b", { maxInFlight: 500, maxInFlightPerCaller: 50 })).toEqual({
      ok: false,
      setting: "COLLECTIONS_MAX_IN_FLIGHT",
      limit: 500,
      who: "all callers",
    });
    expect(pulled.count).toBe(500);
  });

  it("refuses at the caller's own limit, counting only the caller's webhook starts", async () => {
    const { iterable } = instances(100, (i) => webhook(i < 60 ? "other" : "me"));
    expect(await checkInFlight(iterable, "me", { maxInFlight: 500, maxInFlightPerCaller: 41 })).toEqual({ ok: true });
    const { iterable: again } = instances(100, (i) => webhook(i < 50 ? "other" : "me"));
    expect(await checkInFlight(again, "me", { maxInFlight: 500, maxInFlightPerCaller: 50 })).toMatchObject({
      ok: false,
      setting: "COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER",
    });
  });

  it("counts only collections: an alert's settle window (another orchestrator) holds no session", async () => {
    async function* mixed() {
      for (let i = 0; i < 10; i++) yield { instanceId: `s-${i}`, name: "alertSettle", input: { alertId: `da${i}` } };
      yield { instanceId: "c-1", name: "collectEvidence", input: webhook("me") };
    }
    expect(await checkInFlight(mixed(), "me", { maxInFlight: 2, maxInFlightPerCaller: 50 })).toEqual({ ok: true });
    async function* two() {
      yield { instanceId: "c-1", name: "collectEvidence", input: webhook("me") };
      yield { instanceId: "c-2", input: webhook("me") };
    }
    expect(await checkInFlight(two(), "me", { maxInFlight: 2, maxInFlightPerCaller: 50 })).toMatchObject({ ok: false });
  });

  it("ignores inputs it cannot read (older collections recorded a caller name, not an object)", async () => {
    const { iterable } = instances(3, () => ({ request: { trigger: { kind: "webhook", caller: "me" } } }));
    expect(await checkInFlight(iterable, "me", { maxInFlight: 500, maxInFlightPerCaller: 1 })).toEqual({ ok: true });
  });
});
