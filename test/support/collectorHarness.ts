import { randomUUID } from "node:crypto";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { createServices, registerApp, type AppServices } from "../../app";
import {
  DurableEngine,
  DurableHttpApi,
  invokeFunction,
  invokeHttp,
  timerInfo,
  VirtualClock,
  type NormalizedHttpResponse,
} from "../../devhost";
import { loadConfig, type AppConfig } from "../../shared/config";
import type { CollectionSummary, Manifest } from "../../shared/contract";
import { silentLogger, type Logger } from "../../shared/log";
import { createMdeSimulator, type MachineScenario, type MdeSimulator, type MdeSimulatorOptions } from "../../simulator";
import { testAzurite } from "./azurite";
import { bearer, developmentAuthSettings } from "./identity";
import { DAY } from "./machines";

export { DAY, HOUR, machine, MINUTE, newMachineId, SECOND } from "./machines";

/**
 * The whole product on one virtual clock: the real app registered through its composition root,
 * the real durable-functions replay code under the devhost engine, the MDE simulator and Azurite.
 * Register once per test file (the worker refuses duplicate function names).
 */
export interface CollectorHarness {
  clock: VirtualClock;
  engine: DurableEngine;
  api: DurableHttpApi;
  simulator: MdeSimulator;
  container: ContainerClient;
  config: AppConfig;
  /** POST /api/liveresponse through the registered HTTP starter. */
  start(body: unknown, headers?: Record<string, string>): Promise<NormalizedHttpResponse>;
  /** GET /api/liveresponse/{id} through the registered status function. */
  status(instanceId: string, headers?: Record<string, string>): Promise<NormalizedHttpResponse>;
  cancel(instanceId: string, body?: unknown, headers?: Record<string, string>): Promise<NormalizedHttpResponse>;
  /** Runs the engine on the virtual clock until the instance finishes. */
  finish(instanceId: string, maxVirtualTimeMs?: number): Promise<CollectionSummary>;
  readManifest(blobName: string): Promise<Manifest>;
  /** Every blob under the machine's folder. */
  blobsOf(machineId: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startCollectorHarness(
  options: {
    settings?: Record<string, string>;
    machines?: MachineScenario[];
    fetch?: typeof fetch;
    logger?: Logger;
    simulator?: Partial<MdeSimulatorOptions>;
    /** false: the action poller's timer never fires (a lost wake-up; collections fall back to their own reads). @default true */
    actionPoller?: boolean;
    /** Wraps the real services before registration (fault injection around the evidence store, say). */
    wrapServices?: (services: AppServices) => AppServices;
  } = {},
): Promise<CollectorHarness> {
  const clock = new VirtualClock("2026-03-02T09:00:00Z");
  const simulator = createMdeSimulator({
    clock: () => clock.now(),
    resultStore: { connectionString: testAzurite.sourceConnectionString, containerName: `mde-${randomUUID().slice(0, 8)}` },
    machines: options.machines ?? [],
    ...options.simulator,
  });
  const { baseUrl } = await simulator.start();
  const service = BlobServiceClient.fromConnectionString(testAzurite.evidenceConnectionString);
  const container = service.getContainerClient(`evidence-${randomUUID().slice(0, 8)}`);
  await container.create();

  const config = loadConfig({
    MDE_API_BASE_URL: baseUrl,
    LOCAL_DEVELOPMENT: "true",
    ...(await developmentAuthSettings()),
    EVIDENCE_STORAGE_CONNECTION_STRING: testAzurite.evidenceConnectionString,
    EVIDENCE_CONTAINER: container.containerName,
    // Each harness its own state container (the governor's document, submission records): test files run in parallel.
    COLLECTOR_STATE_CONTAINER: `state-${randomUUID().slice(0, 8)}`,
    // Tests name made-up scripts (triage.ps1, collect.ps1) that the simulator holds as stand-ins but library/
    // has no reviewed copy of; the library check's own tests set this back to false.
    LIBRARY_ALLOW_UNREVIEWED: "true",
    ...options.settings,
  });
  // In-process client retries must not sleep in real time while the engine runs on a virtual clock.
  const services = createServices(config, {
    now: () => clock.now(),
    fetch: options.fetch,
    sleep: async () => {},
    logger: options.logger ?? silentLogger,
  });
  registerApp(options.wrapServices ? options.wrapServices(services) : services);
  const engine = new DurableEngine({ clock });
  const api = new DurableHttpApi(engine);
  await api.start();
  // The action poller's timer trigger, on the virtual clock (functions/actionPoller.ts).
  if (options.actionPoller !== false) {
    engine.addPeriodicWork(config.collection.actionPollIntervalInMs, async () => {
      await invokeFunction("actionPoller", timerInfo({ now: clock.now() }), { durable: api, triggerType: "timerTrigger" });
    });
  }

  return {
    clock,
    engine,
    api,
    simulator,
    container,
    config,
    // Every call carries a development token with all three roles unless the test sends its own Authorization.
    start: async (body, headers) =>
      invokeHttp("liveResponseStart", {
        durable: api,
        method: "POST",
        path: "/api/liveresponse",
        body,
        headers: { authorization: await bearer(), ...headers },
      }),
    status: async (id, headers) =>
      invokeHttp("liveResponseStatus", {
        durable: api,
        method: "GET",
        path: `/api/liveresponse/${id}`,
        headers: { authorization: await bearer(), ...headers },
      }),
    cancel: async (id, body = {}, headers) =>
      invokeHttp("liveResponseCancel", {
        durable: api,
        method: "POST",
        path: `/api/liveresponse/${id}/cancel`,
        body,
        headers: { authorization: await bearer(), ...headers },
      }),
    async finish(instanceId, maxVirtualTimeMs = 5 * DAY) {
      const status = await engine.waitForCompletion(instanceId, { maxVirtualTimeMs });
      if (status.runtimeStatus !== "Completed")
        throw new Error(`collection ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
      return status.output as CollectionSummary;
    },
    async readManifest(blobName) {
      return JSON.parse((await container.getBlockBlobClient(blobName).downloadToBuffer()).toString("utf8")) as Manifest;
    },
    async blobsOf(machineId) {
      const names: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: `${config.evidence.prefix}/${machineId}/` })) names.push(b.name);
      return names.sort();
    },
    async stop() {
      await api.stop();
      await simulator.stop();
    },
  };
}
