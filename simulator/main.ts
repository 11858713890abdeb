/**
 * `npm run simulator`: the MDE live response simulator with the demo machines, on the real clock.
 * Starts Azurite (./azurite.ts) for the result store unless
 * SIMULATOR_RESULT_STORE_CONNECTION_STRING names one; listens on SIMULATOR_PORT (default 7072).
 */
import { jsonLogger } from "../shared/log";
import { startAzurite, type AzuriteInstance } from "./azurite";
import { defaultMachines } from "./scenarios";
import { createMdeSimulator } from "./server";

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return 7072;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SIMULATOR_PORT must be a port number, got '${value}'`);
  return port;
}

function describeDelay(ms: number | null): string {
  if (ms === null) return "never";
  if (ms === 0) return "now";
  return ms % 3_600_000 === 0 ? `in ${ms / 3_600_000} h` : ms % 60_000 === 0 ? `in ${ms / 60_000} min` : `in ${ms / 1000} s`;
}

async function main(): Promise<void> {
  const port = portFromEnv(process.env.SIMULATOR_PORT);
  let azurite: AzuriteInstance | undefined;
  let connectionString = process.env.SIMULATOR_RESULT_STORE_CONNECTION_STRING;
  if (!connectionString) {
    azurite = await startAzurite();
    connectionString = azurite.sourceConnectionString;
  }
  const simulator = createMdeSimulator({
    port,
    resultStore: { connectionString },
    machines: defaultMachines(),
    logger: process.env.SIMULATOR_LOG === "1" ? jsonLogger(console) : undefined,
  });
  let baseUrl: string;
  try {
    ({ baseUrl } = await simulator.start());
  } catch (e) {
    await azurite?.stop();
    throw e;
  }

  console.log(`MDE live response simulator: ${baseUrl}  (API under ${baseUrl}/api, any bearer token accepted)`);
  console.log(
    `Result store: ${azurite ? `Azurite on ${azurite.blobEndpoint} (account mdesource, started here)` : "from SIMULATOR_RESULT_STORE_CONNECTION_STRING"}`,
  );
  if (azurite) console.log(`Evidence account connection string: ${azurite.evidenceConnectionString}`);
  console.table(
    simulator.machines().map((m) => ({
      machineId: m.machineId,
      computerDnsName: m.computerDnsName,
      online: describeDelay(m.onlineAfterMs),
      fault:
        m.failCommandIndex !== null ? `command ${m.failCommandIndex} fails` : m.expiredLinks > 0 ? `${m.expiredLinks} expired link(s)` : "",
    })),
  );
  console.log(
    `Admin: GET ${baseUrl}/simulator/machines, POST ${baseUrl}/simulator/machines, GET ${baseUrl}/simulator/actions/{id}/results/{index}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    await simulator.stop();
    await azurite?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
