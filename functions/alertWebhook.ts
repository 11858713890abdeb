import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { authorize, type EndpointAuth } from "./auth";
import { RecentAlertDevices } from "./alertDuplicates";
import { collectForAlertClaim, type AlertOutcome, type AlertPipelineDeps } from "./alertPipeline";
import { durableFor, type DurableAccess, type DurableDeps } from "./durableAccess";
import { errorResponse, readJsonBody } from "./http";
import { claimsFromPayload } from "../shared/alerts/event";
import { MAX_ALERTS_PER_INCIDENT } from "../shared/alerts/sentinelIncident";
import { jsonLogger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";

export interface AlertWebhookDeps extends DurableDeps, AlertPipelineDeps {
  auth: EndpointAuth;
}

/**
 * Largest body taken: a Sentinel incident with its alerts and entities runs to tens of kilobytes;
 * Logic Apps' own HTTP action sends up to 100 MB, which is not ours to read.
 */
export const MAX_ALERT_BODY_BYTES = 1024 * 1024;

/** What the webhook did with one alert of the body. */
export interface AlertResult {
  /** The alert as the body names it (Sentinel system alert id, or the MDE alert id). */
  ref: string;
  /** The MDE alert id it maps to, when it maps to one. */
  alertId?: string;
  outcome: "started" | "duplicate" | "noRule" | "dropped";
  /** For `dropped`: the constant reason (shared/alerts/claim.ts). */
  reason?: string;
  /** Devices with a collection for this alert afterwards. */
  machineIds?: string[];
}

/**
 * POST /api/alerts (app role `Collector.Alert`): a Sentinel playbook's HTTP action posts the incident
 * (the "Microsoft Sentinel incident" trigger body) or an alert (the alert trigger body, a SecurityAlert
 * row, a Graph or an MDE alert). Every alert goes through the one alert pipeline
 * (functions/alertPipeline.ts): only its MDE alert id is taken from the body, the alert is read from
 * MDE and acted on as MDE answers it, so the role can nominate alerts and nothing more: no device,
 * file or playbook of the body is used. Answers 202 with what happened to each alert, 400 for a body
 * of no known kind, 413 past {@link MAX_ALERT_BODY_BYTES}.
 */
export function createAlertWebhook(deps: AlertWebhookDeps) {
  const recent = new RecentAlertDevices();
  return async function alertWebhook(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const log = jsonLogger(context, { function: "alertWebhook" });
    const authorization = await authorize(request, deps.auth, "alert");
    if (!authorization.ok) return authorization.response;
    const body = await readJsonBody(request, MAX_ALERT_BODY_BYTES);
    if (!body.ok) return body.response;
    const claims = claimsFromPayload(body.value);
    if (!claims.ok) {
      log.warn("alert post refused", { reason: claims.reason, detail: claims.detail, caller: authorization.caller.objectId });
      return errorResponse(400, "InvalidRequest", `The body is not an alert or incident this endpoint reads: ${claims.detail}.`);
    }
    let durable: DurableAccess | undefined;
    const about = { route: "webhook", caller: authorization.caller.objectId, eventId: context.invocationId };
    const results: AlertResult[] = [];
    for (const { ref, result } of claims.claims) {
      if (!result.ok) {
        log.info("alert event dropped", { ...about, ref, reason: result.reason, detail: result.detail });
        results.push({ ref, outcome: "dropped", reason: result.reason });
        continue;
      }
      try {
        durable ??= durableFor(deps, context);
        const outcome = await collectForAlertClaim(deps, recent, result.claim, durable, log, about);
        results.push({ ref, alertId: result.claim.mdeAlertId, ...describe(outcome) });
      } catch (e) {
        log.error("alert event failed", { ...about, ref, reason: "Unexpected", detail: describeFailure(e) });
        results.push({ ref, alertId: result.claim.mdeAlertId, outcome: "dropped", reason: "Unexpected" });
      }
    }
    const notExamined = claims.notExamined;
    return {
      status: 202,
      jsonBody: {
        kind: claims.kind,
        alerts: results,
        ...(notExamined > 0
          ? { notExamined, detail: `alerts past the first ${MAX_ALERTS_PER_INCIDENT} of an incident are not examined` }
          : {}),
      },
    };
  };
}

function describe(outcome: AlertOutcome): Omit<AlertResult, "ref" | "alertId"> {
  switch (outcome.kind) {
    case "collecting":
      return { outcome: "started", machineIds: outcome.machineIds };
    case "duplicate":
      return { outcome: "duplicate", machineIds: [outcome.machineId] };
    case "noRule":
      return { outcome: "noRule" };
    case "dropped":
      return { outcome: "dropped", reason: outcome.reason };
  }
}
