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
import { createLiveResponseCancel } from "./functions/liveResponseCancel";
import { createLiveResponseStart } from "./functions/liveResponseStart";
import { createLiveResponseStatus } from "./functions/liveResponseStatus";
import { createScheduledCollection } from "./functions/scheduledCollection";
import { collectEvidence } from "./orchestrators/collectEvidence";
import { COLLECT_EVIDENCE_ORCHESTRATOR } from "./shared/contract";
import type { AppConfig } from "./shared/config";
import { createEvidenceStore } from "./shared/evidence/blobWriter";
import type { EvidenceStore } from "./shared/evidence/types";
import { jsonLogger, type Logger } from "./shared/log";
import type { MdeApi } from "./shared/mde/api";
import { StaticTokenCredential } from "./shared/mde/auth";
import { MdeClient } from "./shared/mde/client";

export interface AppServices {
  config: AppConfig;
  mde: MdeApi;
  evidence: EvidenceStore;
  now: () => Date;
}

/** Builds the real clients. Tests pass their own `fetch`, clock, retry sleep (virtual time) or logger through `overrides`. */
export function createServices(
  config: AppConfig,
  overrides: { fetch?: typeof fetch; now?: () => Date; credential?: TokenCredential; sleep?: (ms: number) => Promise<void>; logger?: Logger } = {},
): AppServices {
  const mdeCredential =
    overrides.credential ??
    (config.mde.useDevelopmentToken
      ? new StaticTokenCredential("local-development")
      : new DefaultAzureCredential(config.mde.managedIdentityClientId ? { managedIdentityClientId: config.mde.managedIdentityClientId } : {}));
  const storageCredential = config.evidence.accountUrl
    ? new DefaultAzureCredential(config.mde.managedIdentityClientId ? { managedIdentityClientId: config.mde.managedIdentityClientId } : {})
    : undefined;
  // The client outlives any one invocation; the worker captures console output as the app's logs.
  const mde = new MdeClient(config.mde.baseUrl, mdeCredential, {
    allowedHosts: config.mde.allowedHosts,
    scope: config.mde.tokenScope,
    fetch: overrides.fetch,
    sleep: overrides.sleep,
    logger: overrides.logger ?? jsonLogger(console, { component: "mde" }),
  });
  const evidence = createEvidenceStore(
    config.evidence.connectionString ? { connectionString: config.evidence.connectionString } : { accountUrl: config.evidence.accountUrl!, credential: storageCredential! },
    config.evidence.container,
    { sourceHosts: config.evidence.sourceHosts, fetch: overrides.fetch },
  );
  return { config, mde, evidence, now: overrides.now ?? (() => new Date()) };
}

export function registerApp(services: AppServices): void {
  const { mde, evidence, config, now } = services;
  const evidencePrefix = config.evidence.prefix;

  df.app.orchestration(COLLECT_EVIDENCE_ORCHESTRATOR, collectEvidence);
  df.app.activity(ActivityNames.submitLiveResponse, { handler: createSubmitLiveResponse({ mde }) });
  df.app.activity(ActivityNames.findLiveResponse, { handler: createFindLiveResponse({ mde }) });
  df.app.activity(ActivityNames.getMachineAction, { handler: createGetMachineAction({ mde }) });
  df.app.activity(ActivityNames.collectCommandResult, { handler: createCollectCommandResult({ mde, evidence, evidencePrefix, chunkBytes: config.evidence.chunkBytes }) });
  df.app.activity(ActivityNames.cancelMachineAction, { handler: createCancelMachineAction({ mde }) });
  df.app.activity(ActivityNames.writeManifest, { handler: createWriteManifest({ evidence, evidencePrefix }) });

  const durableClient = df.input.durableClient();
  app.http("liveResponseStart", {
    route: "liveresponse",
    methods: ["POST"],
    authLevel: "function",
    extraInputs: [durableClient],
    handler: createLiveResponseStart({ collection: config.collection, playbooks: config.playbooks, now }),
  });
  app.http("liveResponseStatus", {
    route: "liveresponse/{instanceId}",
    methods: ["GET"],
    authLevel: "function",
    extraInputs: [durableClient],
    handler: createLiveResponseStatus(),
  });
  app.http("liveResponseCancel", {
    route: "liveresponse/{instanceId}/cancel",
    methods: ["POST"],
    authLevel: "function",
    extraInputs: [durableClient],
    handler: createLiveResponseCancel({ now }),
  });
  // The schedule is the validated COLLECTION_PLANS_SCHEDULE value (default "0 0 2 * * *") rather than a
  // %COLLECTION_PLANS_SCHEDULE% binding expression: the worker registers functions at startup, so the
  // default applies and a bad expression is refused by loadConfig with the setting's name.
  app.timer("scheduledCollection", {
    schedule: config.plans.schedule,
    extraInputs: [durableClient],
    handler: createScheduledCollection({ mde, plans: config.plans, playbooks: config.playbooks, collection: config.collection, now }),
  });
  app.eventGrid("alertCollection", {
    extraInputs: [durableClient],
    handler: createAlertCollection({ mde, rules: config.alertRules, playbooks: config.playbooks, collection: config.collection, now }),
  });
}
