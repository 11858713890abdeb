/**
 * `npm start`: the whole app on this machine without Core Tools. Reads local.settings.json (else
 * the sample), starts what the settings point at locally (Azurite for development storage, the MDE
 * simulator for the sample's loopback MDE URL; rules in devhost/localSettings.ts), loads the app
 * as the worker does and serves it with the local host (devhost/localHost.ts): the same URLs and
 * payloads as `func start`. Prints `ready: api=<url> simulator=<url> blob=<url>` once everything
 * accepts connections. Ctrl-C or SIGTERM stops every part, Azurite's process included.
 *
 * Ports: LOCAL_HOST_PORT (default Host.LocalHttpPort or 7071), SIMULATOR_PORT (7072),
 * AZURITE_BLOB_PORT (10000); 0 = a free port.
 */
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import {
  DEFAULT_PORTS,
  evidenceEndpointOf,
  loadAppWithSettings,
  loadOrCreateDevelopmentIdentity,
  LocalHost,
  mergeWithEnvironment,
  methodsOf,
  planLocalServices,
  portFrom,
  readLocalSettings,
  routeTemplateOf,
  wantsDevelopmentIdentity,
  withLocalServices,
} from "../devhost";
import { loadConfig } from "../shared/config";
import {
  createMdeSimulator,
  defaultMachines,
  startAzurite,
  type AzuriteInstance,
  type MdeSimulator,
  type ResolvedMachineScenario,
} from "../simulator";

/** Everything started so far, stopped in reverse order. */
const running: Array<{ name: string; stop: () => Promise<void> }> = [];

/** How long one part may take to stop (the host waits for activities in flight) before the next is stopped anyway. */
const STOP_TIMEOUT_MS = 10_000;

async function stopAll(): Promise<void> {
  for (const part of running.splice(0).reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.error(`${part.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; going on`);
        resolve();
      }, STOP_TIMEOUT_MS);
    });
    try {
      // Azurite comes last, so it is always killed and waited for even when the host hangs.
      await Promise.race([part.stop(), timedOut]);
    } catch (e) {
      console.error(`stopping ${part.name} failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function main(): Promise<void> {
  // dist-tools/scripts/start.js -> the package root, wherever npm was run from.
  const root = path.resolve(__dirname, "..", "..");
  const file = readLocalSettings(root);
  const { settings, fromEnvironment } = mergeWithEnvironment(file.values, process.env);
  const ports = {
    host: portFrom(process.env, "LOCAL_HOST_PORT", file.localHttpPort ?? DEFAULT_PORTS.host),
    simulator: portFrom(process.env, "SIMULATOR_PORT", DEFAULT_PORTS.simulator),
    azurite: portFrom(process.env, "AZURITE_BLOB_PORT", DEFAULT_PORTS.azuriteBlob),
  };
  console.log(
    `Settings: ${path.relative(root, file.path)}${fromEnvironment.length ? ` (from the environment: ${fromEnvironment.join(", ")})` : ""}`,
  );
  // AUTH_MODE=development without a key set: this machine's development identity (npm run token mints for it).
  const identity = wantsDevelopmentIdentity(settings) ? await loadOrCreateDevelopmentIdentity(root) : undefined;
  // Refuse bad settings before anything starts (the app checks again, with the real URLs, at load).
  loadConfig(withLocalServices(settings, { developmentJwks: identity?.jwks }));
  const plan = planLocalServices(settings, ports.simulator);

  let azurite: AzuriteInstance | undefined;
  if (plan.azurite) {
    // startAzurite picks a free port when given none.
    azurite = await startAzurite({ port: ports.azurite || undefined });
    running.push({ name: "Azurite", stop: () => azurite!.stop() });
  }
  let simulator: MdeSimulator | undefined;
  if (plan.simulator) {
    simulator = createMdeSimulator({
      port: ports.simulator,
      resultStore: { connectionString: azurite!.sourceConnectionString },
      machines: defaultMachines(),
    });
    await simulator.start();
    running.push({ name: "MDE simulator", stop: () => simulator!.stop() });
  }
  const appSettings = withLocalServices(settings, {
    simulatorUrl: simulator?.baseUrl,
    azuriteConnectionString: azurite?.evidenceConnectionString,
    developmentJwks: identity?.jwks,
  });
  await ensureEvidenceContainer(appSettings);

  const registry = loadAppWithSettings(appSettings);
  const host = await LocalHost.start({ port: ports.host, registry, settings: appSettings });
  running.push({ name: "local host", stop: () => host.stop() });
  // Core Tools sets this: durable client links made outside an HTTP request then name this host.
  process.env.WEBSITE_HOSTNAME = new URL(host.origin).host;

  console.log("\nFunctions:");
  for (const fn of registry.getRegisteredFunctions()) {
    if (fn.triggerType === "httpTrigger")
      console.log(`  ${fn.name}: [${methodsOf(fn).join(",") || "ALL"}] ${host.apiBaseUrl}/${routeTemplateOf(fn)}`);
    else if (fn.triggerType === "timerTrigger" || fn.triggerType === "eventGridTrigger") console.log(`  ${fn.name}: ${fn.triggerType}`);
  }
  console.log(`  Durable HTTP API: ${host.origin}/runtime/webhooks/durabletask/instances`);
  if (identity)
    console.log(
      `\nCallers: AUTH_MODE=development; get a token with: npm run token (roles: --roles Collector.Run,Collector.Read,Collector.Cancel,Collector.Alert)`,
    );
  console.log(
    `\nready: api=${host.apiBaseUrl} simulator=${simulator?.baseUrl ?? "none"} blob=${azurite?.blobEndpoint ?? evidenceEndpointOf(appSettings)}`,
  );
  if (simulator) printMachines(simulator.machines(), simulator.baseUrl);
  else console.log(`MDE API: ${appSettings.MDE_API_BASE_URL ?? "https://api.security.microsoft.com"}`);
}

async function ensureEvidenceContainer(settings: Record<string, string>): Promise<void> {
  const connectionString = settings.EVIDENCE_STORAGE_CONNECTION_STRING?.trim();
  // With an account URL the container is infrastructure's (and the identity may not be allowed to create it).
  if (!connectionString) return;
  const container = settings.EVIDENCE_CONTAINER?.trim() || "evidence";
  try {
    await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).createIfNotExists();
  } catch (e) {
    console.warn(`Could not create the evidence container '${container}': ${(e as Error).message}`);
  }
}

function describeDelay(ms: number | null): string {
  if (ms === null) return "never";
  if (ms === 0) return "now";
  return ms % 3_600_000 === 0 ? `in ${ms / 3_600_000} h` : ms % 60_000 === 0 ? `in ${ms / 60_000} min` : `in ${ms / 1000} s`;
}

function printMachines(machines: ResolvedMachineScenario[], baseUrl: string): void {
  console.table(
    machines.map((m) => ({
      machineId: m.machineId,
      computerDnsName: m.computerDnsName,
      online: describeDelay(m.onlineAfterMs),
      "command (s)": [...new Set(Object.values(m.commandDurationMs))].map((ms) => ms / 1000).join("/"),
      fault:
        m.failCommandIndex !== null ? `command ${m.failCommandIndex} fails` : m.expiredLinks > 0 ? `${m.expiredLinks} expired link(s)` : "",
    })),
  );
  console.log(
    `Add a machine: POST ${baseUrl}/simulator/machines   Source bytes: GET ${baseUrl}/simulator/actions/{actionId}/results/{index}`,
  );
}

const startup = main();
let stopping = false;
function shutdown(signal: string, code: number): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  // A signal during startup waits for the step under way, so nothing it starts is left behind.
  void startup
    .catch(() => undefined)
    .then(stopAll)
    .finally(() => process.exit(code));
}
process.on("SIGINT", () => shutdown("SIGINT", 0));
process.on("SIGTERM", () => shutdown("SIGTERM", 0));

startup.catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  console.error(
    /EADDRINUSE/.test(message)
      ? `${message}: a port is taken; set LOCAL_HOST_PORT, SIMULATOR_PORT or AZURITE_BLOB_PORT (0 = a free port)`
      : message,
  );
  shutdown("startup failed", 1);
});
