/**
 * Composition root: builds the MDE client and the evidence writer from validated settings and
 * registers every function. Handlers receive their dependencies; nothing below reads `process.env`.
 */
import { app } from "@azure/functions";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import * as df from "durable-functions";
import { createCancelMachineAction } from "./activities/cancelMachineAction";
import { createCollectCommandResult } from "./activities/collectCommandResult";
import { ActivityNames } from "./shared/contract";
import { createFindLiveResponse } from "./activities/findLiveResponse";
import { createGetMachineAction } from "./activities/getMachineAction";
import { createSubmitLiveResponse } from "./activities/submitLiveResponse";
import { createWriteManifest } from "./activities/writeManifest";
import { createAlertCollection } from "./functions/alertCollection";
import { registerAlertStreaming } from "./functions/alertStreaming";
import { registerAlertPolling } from "./functions/alertPolling";
import { createAlertWebhook } from "./functions/alertWebhook";
import { createAlertPollingServices, type AlertPollingServices } from "./shared/alerts/graphServices";
import { endpointAuth } from "./functions/auth";
import { createLiveResponseCancel } from "./functions/liveResponseCancel";
import { createLiveResponseStart } from "./functions/liveResponseStart";
import { createLiveResponseStatus } from "./functions/liveResponseStatus";
import { createScheduledCollection } from "./functions/scheduledCollection";
import { COLLECTION_SWEEP_SCHEDULE, createCollectionSweep } from "./functions/collectionSweep";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { blobAuditTrail, type AuditTrail } from "./shared/evidence/auditTrail";
import { loadBuildInfo, type BuildInfo } from "./shared/evidence/buildInfo";
import { documentReader } from "./shared/evidence/documentReader";
import { collectEvidence } from "./orchestrators/collectEvidence";
import { COLLECT_EVIDENCE_ORCHESTRATOR } from "./shared/contract";
import type { AppConfig } from "./shared/config";
import { createEvidenceStore } from "./shared/evidence/blobWriter";
import { createManifestSigner } from "./shared/evidence/signing/createSigner";
import type { ManifestSigner } from "./shared/evidence/signing/manifestSignature";
import { createTimestampClient, type TimestampAuthorityClient } from "./shared/evidence/timestamp/timestampRequest";
import type { EvidenceStore } from "./shared/evidence/types";
import { jsonLogger, type Logger } from "./shared/log";
import type { MdeApi } from "./shared/mde/api";
import { StaticTokenCredential } from "./shared/mde/auth";
import { MdeClient } from "./shared/mde/client";
import { createStateContainer } from "./shared/stateStorage";
import { createGovernor } from "./shared/governor/createGovernor";
import type { GovernorPort } from "./activities/governed";
import { blobSubmissionRecords, type SubmissionRecords } from "./activities/submissionRecords";
import { createActionPoller } from "./functions/actionPoller";
import { blobWatchStore, type WatchStore } from "./shared/actionWatch/watchStore";
import { actionPollSchedule } from "./shared/timing";

export interface AppServices {
  config: AppConfig;
  mde: MdeApi;
  evidence: EvidenceStore;
  /** Signs each manifest's SHA-256 (a Key Vault key in Azure, a development key locally). */
  signer: ManifestSigner;
  /** MANIFEST_TIMESTAMP_URL's time-stamp authority (RFC 3161), when set: each manifest gets a token beside it. */
  timestamps?: TimestampAuthorityClient;
  // The next three are always set by createServices; tests that register fakes may leave them out.
  /** The audit trail of starts, reads and cancellations (append blobs in the evidence container). */
  audit?: AuditTrail;
  /** Reads back small documents (manifests) of the evidence container. @default nothing is ever found */
  readDocument?: (blobName: string) => Promise<Buffer | undefined>;
  /** The deployed build (dist/buildInfo.json), named in every manifest. @default from package.json */
  build?: BuildInfo;
  /** Graph alerts_v2 polling's client and cursor, when ALERTS_POLL_SCHEDULE is set. */
  alertPolling?: AlertPollingServices;
  /** The collector's state container (host storage, COLLECTOR_STATE_CONTAINER): governor, poll cursor, submission records. */
  stateContainer?: ContainerClient;
  /** The tenant-wide MDE rate governor; absent with GOVERNOR_ENABLED=false (or in tests that register fakes). */
  governor?: GovernorPort;
  /** Submission records (activities/submissionRecords.ts); without them every submission looks up first. */
  submissionRecords?: SubmissionRecords;
  /** The action poller's watch list (batched status polling); without it every collection reads MDE itself. */
  watch?: WatchStore;
  now: () => Date;
}

/** Builds the real clients. Tests pass their own `fetch`, clock, retry sleep (virtual time) or logger through `overrides`. */
export function createServices(
  config: AppConfig,
  overrides: {
    fetch?: typeof fetch;
    now?: () => Date;
    credential?: TokenCredential;
    sleep?: (ms: number) => Promise<void>;
    logger?: Logger;
  } = {},
): AppServices {
  // The app's one identity (a user-assigned managed identity in Azure) for MDE, storage and signing.
  const appCredential = new DefaultAzureCredential(
    config.mde.managedIdentityClientId ? { managedIdentityClientId: config.mde.managedIdentityClientId } : {},
  );
  const mdeCredential =
    overrides.credential ?? (config.mde.useDevelopmentToken ? new StaticTokenCredential("local-development") : appCredential);
  const storageCredential = config.evidence.accountUrl ? appCredential : undefined;
  // The client outlives any one invocation; the worker captures console output as the app's logs.
  const mde = new MdeClient(config.mde.baseUrl, mdeCredential, {
    allowedHosts: config.mde.allowedHosts,
    scope: config.mde.tokenScope,
    fetch: overrides.fetch,
    sleep: overrides.sleep,
    logger: overrides.logger ?? jsonLogger(console, { component: "mde" }),
  });
  const evidence = createEvidenceStore(
    config.evidence.connectionString
      ? { connectionString: config.evidence.connectionString }
      : { accountUrl: config.evidence.accountUrl!, credential: storageCredential! },
    config.evidence.container,
    { sourceHosts: config.evidence.sourceHosts, fetch: overrides.fetch },
  );
  // The same container, for what the evidence store does not do: the audit trail's append blobs and reading documents back.
  const container: ContainerClient = (
    config.evidence.connectionString
      ? BlobServiceClient.fromConnectionString(config.evidence.connectionString)
      : new BlobServiceClient(config.evidence.accountUrl!, storageCredential!)
  ).getContainerClient(config.evidence.container);
  // Built once: the governor, the poller's cursor and the submission records share it.
  const stateContainer = createStateContainer(config.state, (clientId) =>
    clientId && clientId !== config.mde.managedIdentityClientId
      ? new DefaultAzureCredential({ managedIdentityClientId: clientId })
      : appCredential,
  );
  const logger = overrides.logger ?? jsonLogger(console, { component: "governor" });
  // The credential asks for a token only on the first signature, so a test that never signs contacts nothing.
  const signer = createManifestSigner(config.manifestSigning, () => appCredential);
  return {
    config,
    mde,
    evidence,
    signer,
    ...(config.manifestTimestamp ? { timestamps: createTimestampClient(config.manifestTimestamp.url, { fetch: overrides.fetch }) } : {}),
    audit: blobAuditTrail(container, config.evidence.prefix),
    readDocument: documentReader(container),
    // dist/app.js sits beside dist/buildInfo.json once built.
    build: loadBuildInfo(__dirname),
    alertPolling: config.alertPolling && createAlertPollingServices(config.alertPolling, stateContainer, () => appCredential, overrides),
    stateContainer,
    governor: config.governor.enabled ? createGovernor(config.governor, stateContainer, logger) : undefined,
    submissionRecords: blobSubmissionRecords(stateContainer),
    watch: blobWatchStore(stateContainer, config.collection.actionPollIntervalInMs),
    now: overrides.now ?? (() => new Date()),
  };
}

export function registerApp(services: AppServices): void {
  const { mde, evidence, signer, config, now, audit, governor } = services;
  const readDocument = services.readDocument ?? (async () => undefined);
  const build = services.build ?? loadBuildInfo(__dirname);
  const evidencePrefix = config.evidence.prefix;

  df.app.orchestration(COLLECT_EVIDENCE_ORCHESTRATOR, collectEvidence);
  // Every activity that calls MDE asks the tenant-wide governor first (activities/governed.ts), on the app's clock.
  const records = services.submissionRecords;
  df.app.activity(ActivityNames.submitLiveResponse, {
    handler: createSubmitLiveResponse({ mde, library: config.library, now, governor, records, watch: services.watch }),
  });
  df.app.activity(ActivityNames.findLiveResponse, { handler: createFindLiveResponse({ mde, governor, now }) });
  df.app.activity(ActivityNames.getMachineAction, { handler: createGetMachineAction({ mde, governor, now, watch: services.watch }) });
  df.app.activity(ActivityNames.collectCommandResult, {
    handler: createCollectCommandResult({ mde, evidence, evidencePrefix, chunkBytes: config.evidence.chunkBytes, governor, now }),
  });
  df.app.activity(ActivityNames.cancelMachineAction, { handler: createCancelMachineAction({ mde, governor, now }) });
  const writer = { evidence, evidencePrefix, signer, mde, build, now, readDocument, governor, timestamps: services.timestamps };
  df.app.activity(ActivityNames.writeManifest, { handler: createWriteManifest(writer) });

  const durableClient = df.input.durableClient();
  // authLevel "anonymous": the Functions host asks no function key. A key is one shared secret
  // that would let anyone holding it run any command on any device; instead every HTTP function
  // authenticates the caller's Entra ID token (or the platform's principal with AUTH_MODE=
  // appServiceAuthentication) and checks its app roles itself (functions/auth.ts, README
  // "Security model").
  const auth = endpointAuth(config.auth);
  app.http("liveResponseStart", {
    route: "liveresponse",
    methods: ["POST"],
    authLevel: "anonymous",
    extraInputs: [durableClient],
    handler: createLiveResponseStart({
      auth,
      mde,
      limits: config.limits,
      collection: config.collection,
      playbooks: config.playbooks,
      allowUncPaths: config.allowUncPaths,
      now,
      audit,
    }),
  });
  app.http("liveResponseStatus", {
    route: "liveresponse/{instanceId}",
    methods: ["GET"],
    authLevel: "anonymous",
    extraInputs: [durableClient],
    handler: createLiveResponseStatus({ auth, audit, now }),
  });
  app.http("liveResponseCancel", {
    route: "liveresponse/{instanceId}/cancel",
    methods: ["POST"],
    authLevel: "anonymous",
    extraInputs: [durableClient],
    handler: createLiveResponseCancel({ auth, now, audit }),
  });
  // The schedule is the validated COLLECTION_PLANS_SCHEDULE value (default "0 0 2 * * *") rather than a
  // %COLLECTION_PLANS_SCHEDULE% binding expression: the worker registers functions at startup, so the
  // default applies and a bad expression is refused by loadConfig with the setting's name.
  app.timer("scheduledCollection", {
    schedule: config.plans.schedule,
    extraInputs: [durableClient],
    handler: createScheduledCollection({
      mde,
      plans: config.plans,
      playbooks: config.playbooks,
      collection: config.collection,
      allowUncPaths: config.allowUncPaths,
      now,
    }),
  });
  // No collection ends without a record: terminated or crashed instances get their MDE action
  // cancelled and a manifest saying what happened (functions/collectionSweep.ts).
  app.timer("collectionSweep", {
    schedule: COLLECTION_SWEEP_SCHEDULE,
    extraInputs: [durableClient],
    handler: createCollectionSweep({ mde, writer, now }),
  });
  // Batched status polling: one list call per 50 watched actions for the whole tenant, waking the
  // collections whose action changed (functions/actionPoller.ts). Without a watch list, collections poll on their own.
  if (services.watch) {
    app.timer("actionPoller", {
      schedule: actionPollSchedule(config.collection.actionPollIntervalInMs),
      extraInputs: [durableClient],
      handler: createActionPoller({ mde, watch: services.watch, governor, collection: config.collection, now }),
    });
  }
  // Every alert route feeds the same pipeline (functions/alertPipeline.ts) with the same dependencies.
  const alertPipeline = {
    mde,
    rules: config.alertRules,
    playbooks: config.playbooks,
    collection: config.collection,
    maxDevicesPerAlert: config.limits.maxDevicesPerAlert,
    allowUncPaths: config.allowUncPaths,
    now,
  };
  app.eventGrid("alertCollection", {
    extraInputs: [durableClient],
    handler: createAlertCollection(alertPipeline),
  });
  // The Defender XDR streaming API through Event Hubs (the trigger only when ALERTS_EVENTHUB is set).
  registerAlertStreaming(config.alertStreaming, alertPipeline);
  // Graph alerts_v2 polling (only when ALERTS_POLL_SCHEDULE is set) and the Sentinel playbook's webhook (role Collector.Alert).
  registerAlertPolling(services.alertPolling, alertPipeline);
  app.http("alertWebhook", {
    route: "alerts",
    methods: ["POST"],
    authLevel: "anonymous",
    extraInputs: [durableClient],
    handler: createAlertWebhook({ ...alertPipeline, auth }),
  });
}
