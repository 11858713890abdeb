/**
 * Starts Azurite, the local stand-in for Azure Storage, for everything that runs the app on this
 * machine: jest's global setup, `npm start`, `npm run demo`, the benchmark and `npm run simulator`
 * (whose result store is Azurite's second account). Not part of the durable engine in devhost/,
 * and never part of the deployed app.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

/**
 * Well-known Azurite development key, public and documented by Microsoft; never a production secret:
 * https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key
 */
export const DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/** Second account that stands in for MDE's own result storage (the source of download links). */
export const SOURCE_ACCOUNT = "mdesource";

/** A running Azurite blob service and how to reach its two accounts. */
export interface AzuriteInstance {
  blobEndpoint: string; // http://127.0.0.1:<port>
  port: number;
  /** Connection string of the evidence (customer) account, devstoreaccount1. */
  evidenceConnectionString: string;
  /** Connection string of the simulated MDE result store, mdesource. */
  sourceConnectionString: string;
  stop(): Promise<void>;
}

/** A loopback port nobody listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Connection string of `account` on an Azurite blob endpoint, with the well-known development key. */
export function connectionString(account: string, blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint}/${account};`;
}

async function waitForPort(port: number, timeoutInMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`azurite exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/devstoreaccount1?comp=list`);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`azurite did not accept connections on port ${port} within ${timeoutInMs} ms`);
}

/**
 * Starts Azurite's blob service from node_modules on a free loopback port, in memory,
 * with the evidence account and the MDE source account declared.
 */
export async function startAzurite(options: { port?: number } = {}): Promise<AzuriteInstance> {
  const port = options.port ?? (await freePort());
  const bin = path.join(path.dirname(require.resolve("azurite/package.json")), "dist", "src", "blob", "main.js");
  const child = spawn(
    process.execPath,
    [
      bin,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--inMemoryPersistence",
      "--skipApiVersionCheck",
      "--disableTelemetry",
      "--loose",
    ],
    {
      env: {
        ...process.env,
        // AZURITE_ACCOUNTS replaces the default account, so devstoreaccount1 is listed too.
        AZURITE_ACCOUNTS: `devstoreaccount1:${DEV_ACCOUNT_KEY};${SOURCE_ACCOUNT}:${DEV_ACCOUNT_KEY}`,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += String(d)));
  try {
    await waitForPort(port, 20_000, child);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n${stderr}`, { cause: e });
  }
  const blobEndpoint = `http://127.0.0.1:${port}`;
  return {
    blobEndpoint,
    port,
    evidenceConnectionString: connectionString("devstoreaccount1", blobEndpoint),
    sourceConnectionString: connectionString(SOURCE_ACCOUNT, blobEndpoint),
    stop: () =>
      new Promise<void>((resolve) => {
        // A child killed by a signal has signalCode set and exitCode null, and its exit event is past.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}
