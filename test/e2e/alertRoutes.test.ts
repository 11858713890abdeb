/**
 * Graph alerts_v2 polling and Sentinel playbook posts, end to end on the virtual clock: the real app's
 * timer, webhook and Event Grid functions against the simulator's MDE and Graph endpoints and Azurite,
 * down to one collection per alert and device whatever route, or routes, an alert came by.
 */
import { createServer } from "node:net";
import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { alertInstanceId } from "../../functions/alertCollection";
import { createAlertPolling } from "../../functions/alertPolling";
import { invokeFunction, invokeHttp, timerInfo, type DevhostLogEntry } from "../../devhost";
import type { AppServices } from "../../app";
import { GraphClient } from "../../shared/alerts/graphClient";
import { createAlertPollingServices } from "../../shared/alerts/graphServices";
import { blobPollCursorStore, cursorBlobName } from "../../shared/alerts/pollCursor";
import { silentLogger } from "../../shared/log";
import { StaticTokenCredential } from "../../shared/mde/auth";
import { BlobServiceClient } from "@azure/storage-blob";
import { eventGridEvent } from "../support/fixtures/alerts/envelopes";
import { MDE_ALERT } from "../support/fixtures/alerts/mdeAlert";
import {
  IDENTITY_PROTECTION_ALERT,
  incidentAlert,
  sentinelAlertTriggerBody,
  sentinelIncidentBody,
} from "../support/fixtures/alerts/sentinelIncident";
import { machine, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";
import { testAzurite } from "../support/azurite";
import { editGraphAlert, alertsV2Hooks, resetAlertsV2Hooks } from "../../simulator/alertsV2";
import { bearer } from "../support/identity";

const PLAYBOOKS = [
  {
    name: "alert-file",
    comment: "Alert {{alert.id}}",
    commands: [{ type: "GetFile", params: [{ key: "Path", value: "{{alert.filePath}}" }] }],
  },
];
const RULES = [{ name: "evasion", playbook: "alert-file", minSeverity: "low", categories: ["DefenseEvasion"] }];
const STATE_CONTAINER = `state-${Date.now().toString(36)}`;

/** Test-controlled Graph faults: network failures while `failWhen` holds, or 429s. */
const graphFaults: { failWhen?: () => boolean; throttleNext: number; retryAfterSeconds: number } = {
  throttleNext: 0,
  retryAfterSeconds: 7,
};
const sleeps: number[] = [];
const faultyFetch: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url.includes("/v1.0/security/alerts_v2")) {
    if (graphFaults.failWhen?.()) throw new TypeError("fetch failed");
    if (graphFaults.throttleNext > 0) {
      graphFaults.throttleNext--;
      const body = JSON.stringify({ error: { code: "TooManyRequests", message: "Too many requests." } });
      return new Response(body, { status: 429, headers: { "Retry-After": String(graphFaults.retryAfterSeconds) } });
    }
  }
  return fetch(input, init);
};

let h: CollectorHarness;
let services: AppServices;
const logs: DevhostLogEntry[] = [];
beforeAll(async () => {
  const port = await freePort();
  h = await startCollectorHarness({
    simulator: { port },
    settings: {
      PLAYBOOKS: JSON.stringify(PLAYBOOKS),
      ALERT_RULES: JSON.stringify(RULES),
      ALERTS_POLL_SCHEDULE: "0 */5 * * * *",
      GRAPH_BASE_URL: `http://127.0.0.1:${port}`,
      ALERTS_POLL_PAGE_SIZE: "2",
      // Pages of two make every window small: enough requests for a run to catch up.
      ALERTS_POLL_MAX_PAGES: "60",
      COLLECTOR_STATE_CONTAINER: STATE_CONTAINER,
    },
    wrapServices: (s) => {
      // The poller's Graph client with the test's faults and a sleep that records the waits asked for.
      services = {
        ...s,
        alertPolling: createAlertPollingServices(
          s.config.alertPolling!,
          s.stateContainer!,
          () => {
            throw new Error("no Azure credential in this test");
          },
          {
            logger: silentLogger,
            fetch: faultyFetch,
            sleep: async (ms) => {
              sleeps.push(ms);
            },
          },
        ),
      };
      return services;
    },
  });
});
afterAll(async () => {
  resetAlertsV2Hooks();
  await h.stop();
});

const json = (e: DevhostLogEntry) => JSON.parse(e.message) as Record<string, unknown>;
const invoke = (name: string, value: unknown, type: string) =>
  invokeFunction(name, value, { durable: h.api, triggerType: type, logger: (e) => logs.push(e) });
const poll = () => invoke("alertPolling", timerInfo({ now: h.clock.now() }), "timerTrigger");
const getAlertCalls = () => h.simulator.stats().calls.getAlert;
const instanceIds = () => new Set(h.engine.listInstances({ instanceIdPrefix: "alert-" }).map((i) => i.instanceId));
const startsOf = (alertId: string) =>
  logs.map(json).filter((l) => l.message === "alert collection started" && l.alertId === alertId).length;
/** The one line each run ends with (its outcome and counts). */
const pollSummaries = (from: DevhostLogEntry[] = logs) => from.map(json).filter((l) => l.outcome !== undefined);

let serial = 0;
/** An MDE alert (the docs' example) on `machineId`, created and last updated at `at`, in a category the rule takes. */
function mdeAlertAt(machineId: string, at: string): Record<string, unknown> {
  serial++;
  return {
    ...MDE_ALERT,
    id: `da63800000000000${String(serial).padStart(4, "0")}_1`,
    category: "DefenseEvasion",
    machineId,
    alertCreationTime: at,
    lastUpdateTime: at,
  };
}
function seed(at: string): { alertId: string; machineId: string } {
  const m = machine();
  h.simulator.addMachine(m);
  const alert = mdeAlertAt(m.machineId, at);
  h.simulator.addAlert(alert);
  return { alertId: alert.id as string, machineId: m.machineId };
}

describe("Graph alerts_v2 polling", () => {
  it("starts one collection per device of each matching MDE alert, across pages and a shared lastUpdateDateTime", async () => {
    // Pages of two: the three alerts of 08:20:00.123 never fit one, so their window is paged and re-read.
    const seeded = [seed("2026-03-02T08:10:00Z"), ...[1, 2, 3].map(() => seed("2026-03-02T08:20:00.123Z")), seed("2026-03-02T08:30:00Z")];
    const before = getAlertCalls();
    logs.length = 0;
    await poll();
    for (const s of seeded) {
      expect(instanceIds()).toContain(alertInstanceId(s.alertId, s.machineId));
      expect(startsOf(s.alertId)).toBe(1);
    }
    expect(getAlertCalls() - before).toBe(5);
    const [summary] = pollSummaries();
    expect(summary).toEqual(expect.objectContaining({ message: "alerts_v2 poll finished", outcome: "windowDone", handledNow: 5 }));
    expect(summary!.splits).toBeGreaterThan(0);
    expect(summary!.rereads).toBe(1);
    // The next window holds only the simulator's two other-product alerts (a minute before its first
    // listing): skipped without an MDE call, and nothing starts.
    h.clock.advanceBy(5 * 60_000);
    logs.length = 0;
    await poll();
    expect(getAlertCalls() - before).toBe(5);
    expect(logs.map(json).filter((l) => l.message === "polled alert skipped")).toEqual([
      expect.objectContaining({ reason: "NotAnMdeAlert", graphAlertId: "ad7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a" }),
      expect.objectContaining({ reason: "NotAnMdeAlert", graphAlertId: "fa6c5e1b2d-4b6a-4f0e-9b1d-2c3e4f5a6b7c_1" }),
    ]);
    expect(pollSummaries()).toEqual([expect.objectContaining({ outcome: "windowDone", listed: 2, handledNow: 2, pages: 1 })]);
  });

  it("a restarted app resumes the cursor: the alerts handled before the failure are not read again, the rest are started once", async () => {
    h.clock.advanceTo(new Date("2026-03-02T09:30:00Z"));
    const seeded = [seed("2026-03-02T09:05:00Z"), seed("2026-03-02T09:08:00Z"), seed("2026-03-02T09:08:00Z"), seed("2026-03-02T09:10:00Z")];
    const before = getAlertCalls();
    logs.length = 0;
    // Graph fails once two alerts were read from MDE: the app "crashes" part way through.
    graphFaults.failWhen = () => getAlertCalls() - before >= 2;
    await poll();
    graphFaults.failWhen = undefined;
    const [failed] = pollSummaries();
    expect(failed).toEqual(expect.objectContaining({ outcome: "graphFailed" }));
    const firstRun = getAlertCalls() - before;
    expect(firstRun).toBeGreaterThanOrEqual(2);
    expect(firstRun).toBeLessThan(4);

    // A new app instance over the same storage: its own Graph client, cursor store and memory.
    const config = h.config;
    const state = BlobServiceClient.fromConnectionString(testAzurite.evidenceConnectionString).getContainerClient(STATE_CONTAINER);
    const restarted = createAlertPolling({
      mde: services.mde,
      rules: config.alertRules,
      playbooks: config.playbooks,
      collection: config.collection,
      maxDevicesPerAlert: config.limits.maxDevicesPerAlert,
      allowUncPaths: config.allowUncPaths,
      now: () => h.clock.now(),
      graph: new GraphClient(config.alertPolling!.graphBaseUrl, new StaticTokenCredential(), {
        allowedHosts: config.alertPolling!.allowedHosts,
        scope: config.alertPolling!.tokenScope,
      }),
      cursor: blobPollCursorStore(state, cursorBlobName(config.alertPolling!.graphBaseUrl)),
      polling: config.alertPolling!,
    });
    const restartLogs: DevhostLogEntry[] = [];
    await restarted(timerInfo({ now: h.clock.now() }), contextFor(h, restartLogs));
    logs.push(...restartLogs);
    expect(getAlertCalls() - before).toBe(4);
    for (const s of seeded) {
      expect(instanceIds()).toContain(alertInstanceId(s.alertId, s.machineId));
      expect(startsOf(s.alertId)).toBe(1);
    }
    expect(pollSummaries(restartLogs)).toEqual([expect.objectContaining({ outcome: "windowDone", handledNow: 4 - firstRun })]);
  });

  it("honours Graph's 429: waits its Retry-After, then reads the page", async () => {
    h.clock.advanceTo(new Date("2026-03-02T10:00:00Z"));
    const s = seed("2026-03-02T09:40:00Z");
    sleeps.length = 0;
    graphFaults.throttleNext = 1;
    logs.length = 0;
    await poll();
    expect(sleeps).toEqual([7000]);
    expect(startsOf(s.alertId)).toBe(1);
    expect(pollSummaries()).toEqual([expect.objectContaining({ outcome: "windowDone" })]);
  });

  it("an alert updated while a window's pages are read shifts the later pages, and the re-read still finds the one skipped", async () => {
    h.clock.advanceTo(new Date("2026-03-02T10:12:00Z"));
    // Five alerts updated in the same instant: their window cannot be cut below a second, so it is paged (2 a page).
    const burst = [1, 2, 3, 4, 5].map(() => seed("2026-03-02T10:05:00.500Z"));
    const byListing = [...burst].sort((a, b) => a.alertId.localeCompare(b.alertId));
    let moved = false;
    alertsV2Hooks.beforeListing = ({ skip }) => {
      if (skip === 2 && !moved) {
        // An analyst edits the first alert of page one before page two is read: it leaves the window.
        moved = true;
        editGraphAlert(byListing[0]!.alertId, { status: "inProgress", lastUpdateDateTime: h.clock.now().toISOString() });
      }
    };
    logs.length = 0;
    try {
      await poll();
    } finally {
      delete alertsV2Hooks.beforeListing;
    }
    expect(moved).toBe(true);
    for (const s of burst) expect(startsOf(s.alertId)).toBe(1);
    const [summary] = pollSummaries();
    expect(summary).toEqual(expect.objectContaining({ outcome: "windowDone", handledNow: 5 }));
    // The pass that lost the third alert found four; the re-read found it; a last pass found nothing new.
    expect(summary!.rereads).toBe(2);
  });
});

describe("Sentinel playbook posts", () => {
  const post = async (body: unknown, roles = ["Collector.Alert"]) =>
    invokeHttp("alertWebhook", {
      durable: h.api,
      method: "POST",
      path: "/api/alerts",
      body,
      headers: { authorization: await bearer({ roles, kind: "application", name: "sentinel-playbook" }) },
    });

  it("webhook, incident: one claim per alert; MDE alerts by alertLink or providerAlertId start, another product's is skipped", async () => {
    const [a, b] = [seed("2026-03-01T08:00:00Z"), seed("2026-03-01T08:00:00Z")];
    const body = sentinelIncidentBody([
      incidentAlert(a.alertId, "11111111-1111-4111-8111-111111111111"),
      incidentAlert(b.alertId, "22222222-2222-4222-8222-222222222222", "providerAlertId"),
      IDENTITY_PROTECTION_ALERT,
    ]);
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.jsonBody).toEqual({
      kind: "sentinelIncident",
      alerts: [
        { ref: "11111111-1111-4111-8111-111111111111", alertId: a.alertId, outcome: "started", machineIds: [a.machineId] },
        { ref: "22222222-2222-4222-8222-222222222222", alertId: b.alertId, outcome: "started", machineIds: [b.machineId] },
        { ref: "0f8ac2a3-5e6b-4c9d-8e7f-1a2b3c4d5e6f", outcome: "dropped", reason: "NotAnMdeAlert" },
      ],
    });
    // The same incident again (the playbook reruns): duplicates, nothing new.
    const again = await post(body);
    expect((again.jsonBody as { alerts: { outcome: string }[] }).alerts.map((x) => x.outcome)).toEqual([
      "duplicate",
      "duplicate",
      "dropped",
    ]);
    expect(instanceIds()).toContain(alertInstanceId(a.alertId, a.machineId));
    expect(instanceIds()).toContain(alertInstanceId(b.alertId, b.machineId));
  });

  it("webhook, alert trigger body: started; without the role 403; a body of no known kind 400", async () => {
    const a = seed("2026-03-01T08:00:00Z");
    const res = await post(sentinelAlertTriggerBody(a.alertId, a.machineId));
    expect(res.status).toBe(202);
    expect(res.jsonBody).toEqual({
      kind: "alert",
      alerts: [{ ref: a.alertId, alertId: a.alertId, outcome: "started", machineIds: [a.machineId] }],
    });
    expect((await post(sentinelAlertTriggerBody(a.alertId, a.machineId), ["Collector.Run"])).status).toBe(403);
    expect((await post({ hello: "world" })).status).toBe(400);
  });

  it("Event Grid: an incident starts each of its MDE alerts, and an alert trigger body starts its alert", async () => {
    const [a, b] = [seed("2026-03-01T08:00:00Z"), seed("2026-03-01T08:00:00Z")];
    await invoke(
      "alertCollection",
      eventGridEvent(sentinelIncidentBody([incidentAlert(a.alertId, "33333333-3333-4333-8333-333333333333"), IDENTITY_PROTECTION_ALERT])),
      "eventGridTrigger",
    );
    await invoke("alertCollection", eventGridEvent(sentinelAlertTriggerBody(b.alertId, b.machineId), "e-2"), "eventGridTrigger");
    expect(instanceIds()).toContain(alertInstanceId(a.alertId, a.machineId));
    expect(instanceIds()).toContain(alertInstanceId(b.alertId, b.machineId));
  });

  it("the same alert by Sentinel and by polling: one collection per device, and the poll reads nothing from MDE for it", async () => {
    h.clock.advanceTo(new Date("2026-03-02T10:30:00Z"));
    const a = seed("2026-03-02T10:15:00Z");
    logs.length = 0;
    expect((await post(sentinelIncidentBody([incidentAlert(a.alertId, "44444444-4444-4444-8444-444444444444")]))).status).toBe(202);
    const before = getAlertCalls();
    await poll();
    expect(getAlertCalls() - before).toBe(0);
    expect(logs.map(json)).toContainEqual(
      expect.objectContaining({ message: "alert already collected; event skipped", alertId: a.alertId }),
    );
    expect(instanceIds()).toContain(alertInstanceId(a.alertId, a.machineId));
    expect(logs.map(json).filter((l) => l.message === "alert collection started")).toEqual([]);
  });
});

/** A context carrying the devhost's durable client binding and capturing log lines, as a fresh host would give. */
function contextFor(harness: CollectorHarness, sink: DevhostLogEntry[]): InvocationContext {
  const input = df.input.durableClient();
  const context = new InvocationContext({
    functionName: "alertPolling",
    logHandler: (level, ...args) =>
      sink.push({ level: level as DevhostLogEntry["level"], functionName: "alertPolling", message: String(args[0]) }),
    options: { extraInputs: [input] },
  });
  context.extraInputs.set(input, harness.api.bindingData());
  return context;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
