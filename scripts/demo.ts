/**
 * `npm run demo`: one investigation through the real app code, with no Azure account.
 * Starts Azurite and the MDE simulator on loopback, loads the app exactly as the Functions worker
 * does (package.json `main`), posts a live response request to the HTTP starter, follows the status
 * endpoint on the wall clock, and prints where each evidence blob landed, checked against the
 * simulator's source bytes.
 */
import { randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { createDevelopmentIdentity, DurableEngine, DurableHttpApi, invokeHttp, loadApp, WallClock } from "../devhost";
import type { CollectionStatus, CollectionSummary } from "../shared/contract";
import { createMdeSimulator, startAzurite } from "../simulator";

const DEMO_MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const TIMEOUT_MS = 120_000;

async function main(): Promise<void> {
  console.log("Starting Azurite (blob) and the MDE simulator on loopback...");
  const azurite = await startAzurite();
  const simulator = createMdeSimulator({
    resultStore: { connectionString: azurite.sourceConnectionString },
    machines: [
      {
        machineId: DEMO_MACHINE,
        computerDnsName: "desktop-demo",
        onlineAfterMs: 3_000,
        commandDurationMs: 2_000,
        getFileSizeBytes: 5 * 1024 * 1024,
        runScript: { exitCode: 0, output: "Transcript started\nC:\\windows\\TEMP\\OfficeClickToRun.dmp.zip\n5 MB", errors: "" },
      },
    ],
  });
  const { baseUrl } = await simulator.start();
  const engine = new DurableEngine({ clock: new WallClock() });
  const durable = new DurableHttpApi(engine);
  try {
    const container = `evidence-demo-${randomUUID().slice(0, 8)}`;
    await BlobServiceClient.fromConnectionString(azurite.evidenceConnectionString).getContainerClient(container).create();
    // The settings a Functions host would pass; the app validates them at load, as in Azure.
    // The demo's caller: a development identity, validated by the app on the same path as Entra tokens.
    const identity = await createDevelopmentIdentity();
    const authorization = `Bearer ${await identity.mint({ name: "demo-analyst@localhost" })}`;
    Object.assign(process.env, {
      MDE_API_BASE_URL: baseUrl,
      LOCAL_DEVELOPMENT: "true",
      AUTH_MODE: "development",
      AUTH_DEVELOPMENT_JWKS: identity.jwks,
      EVIDENCE_STORAGE_CONNECTION_STRING: azurite.evidenceConnectionString,
      EVIDENCE_CONTAINER: container,
      COLLECTION_POLL_INITIAL_SECONDS: "1",
    });
    loadApp();
    engine.start();
    await durable.start();

    const request = {
      machineId: DEMO_MACHINE,
      comment: "Demo: memory dump and its file",
      commands: [
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "minidump.ps1" },
            { key: "Args", value: "OfficeClickToRun" },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
      ],
    };
    console.log(`\nPOST /api/liveresponse  ${JSON.stringify(request)}`);
    const started = await invokeHttp("liveResponseStart", {
      durable,
      method: "POST",
      path: "/api/liveresponse",
      body: request,
      headers: { authorization },
    });
    const { id, statusQueryGetUri, cancelPostUri } = started.jsonBody as { id: string; statusQueryGetUri: string; cancelPostUri: string };
    console.log(`-> ${started.status}, instance ${id}`);
    console.log(`   status (GET, Collector.Read):    ${statusQueryGetUri}\n   cancel (POST, Collector.Cancel): ${cancelPostUri}\n`);

    const summary = await follow(statusQueryGetUri, durable, authorization);
    console.log(`\nOutcome: ${summary.outcome} (${summary.outcomeReason}); MDE action ${summary.actionId} ${summary.actionStatus}\n`);
    for (const e of summary.evidence) {
      const expected = await simulator.expectedResult(summary.actionId!, e.index);
      const verdict = expected.sha256 === e.sha256 ? "matches the source bytes" : `DOES NOT MATCH the source (${expected.sha256})`;
      console.log(`  [${e.index}] ${e.type.padEnd(9)} ${e.blobUrl}\n      ${e.size} bytes, SHA-256 ${e.sha256} ${verdict}`);
    }
    console.log(`  manifest  ${summary.manifest?.blobUrl}\n      SHA-256 ${summary.manifest?.sha256}`);
    console.log(`\nEvidence account (Azurite): ${azurite.blobEndpoint}/devstoreaccount1/${container}`);
    if (summary.outcome !== "Completed" || !summary.complete) process.exitCode = 1;
  } finally {
    engine.stop();
    await durable.stop();
    await simulator.stop();
    await azurite.stop();
  }
}

/** Follows the status URL the 202 gave (the collector's own endpoint), printing each phase change, until the collection ends. */
async function follow(statusQueryGetUri: string, durable: DurableHttpApi, authorization: string): Promise<CollectionSummary> {
  const deadline = Date.now() + TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    const res = await invokeHttp("liveResponseStatus", { durable, method: "GET", url: statusQueryGetUri, headers: { authorization } });
    const body = res.jsonBody as Partial<CollectionStatus> & { runtimeStatus: string; result?: CollectionSummary; error?: unknown };
    const line = `${body.phase ?? "?"}${body.actionStatus ? ` (MDE: ${body.actionStatus})` : ""}${body.message ? ` - ${body.message}` : ""}`;
    if (line !== last) console.log(`  ${new Date().toISOString().slice(11, 19)}  ${line}`);
    last = line;
    if (body.runtimeStatus === "Completed" && body.result) return body.result;
    if (body.runtimeStatus === "Failed" || body.runtimeStatus === "Terminated")
      throw new Error(`collection ${body.runtimeStatus}: ${JSON.stringify(body.error)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`collection did not finish within ${TIMEOUT_MS / 1000} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
