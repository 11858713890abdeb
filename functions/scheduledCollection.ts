import type { InvocationContext, Timer } from "@azure/functions";
import { durableFor, type DurableDeps } from "./durableAccess";
import { planMachines, type PlannedCollection } from "./planMachines";
import { describeProblems, startPlaybookCollection } from "./startCollection";
import { buildCollectionPolicy } from "../shared/timing";
import { planInstanceId, staggeredStart, type CollectionPlanSettings } from "../shared/collectionPlans";
import type { CollectionSettings } from "../shared/config";
import { jsonLogger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";
import { parseNcrontab } from "../shared/ncrontab";
import type { PlaybookCatalog } from "../shared/playbooks";
import { DEFAULT_COMMENT } from "../shared/validation";

export interface ScheduledCollectionDeps extends DurableDeps {
  mde: MdeApi;
  plans: CollectionPlanSettings;
  playbooks: PlaybookCatalog;
  collection: CollectionSettings;
  /** GETFILE_ALLOW_UNC_PATHS: a plan's GetFile may name a network share. @default false */
  allowUncPaths?: boolean;
  now: () => Date;
}

/** How early a firing may come and still belong to the occurrence just ahead (Azure/azure-functions-host#7398). */
export const EARLY_FIRING_TOLERANCE_IN_MS = 5_000;

/**
 * Timer `scheduledCollection`: runs every collection plan, one orchestration per machine under a
 * deterministic id (plan + machine + schedule occurrence), so a duplicate firing starts nothing twice.
 * Starts are staggered (`policy.startAfter`) at `submissionsPerMinute`, and a run starts at most
 * `maxMachinesPerRun`, so a large plan does not spend MDE's 10 submissions per minute on 429s.
 * A plan whose machines cannot be listed is logged and skipped; the others still run.
 */
export function createScheduledCollection(deps: ScheduledCollectionDeps) {
  const cron = parseNcrontab(deps.plans.schedule);
  return async function scheduledCollection(_timer: Timer, context: InvocationContext): Promise<void> {
    const log = jsonLogger(context, { function: "scheduledCollection" });
    const now = deps.now();
    // The occurrence this firing belongs to, not the clock: a retried or duplicate firing names the same one.
    // Timers have been seen to fire a few milliseconds early; without the tolerance that firing would
    // name yesterday's occurrence, find its collections already started and start nothing.
    const scheduledFor = (
      (cron.ok ? cron.schedule.previous(new Date(now.getTime() + EARLY_FIRING_TOLERANCE_IN_MS)) : undefined) ?? now
    ).toISOString();
    const planned: PlannedCollection[] = await planMachines(deps.mde, deps.plans.plans, log);
    const selected = planned.slice(0, deps.plans.maxMachinesPerRun);
    if (planned.length > selected.length) {
      log.warn("scheduled run capped", {
        scheduledFor,
        machines: planned.length,
        started: selected.length,
        skipped: planned.length - selected.length,
        limit: deps.plans.maxMachinesPerRun,
      });
    }
    const durable = durableFor(deps, context);
    const counts = { started: 0, existing: 0, refused: 0 };
    for (const { plan, machine } of selected) {
      const about = { plan: plan.name, machineId: machine.id };
      const policy = buildCollectionPolicy(deps.collection, now, staggeredStart(counts.started, deps.plans.submissionsPerMinute, now));
      const outcome = await startPlaybookCollection({
        durable,
        instanceId: planInstanceId(plan.name, machine.id, scheduledFor),
        machineId: machine.id,
        allowUncPaths: deps.allowUncPaths,
        run: {
          playbook: deps.playbooks.get(plan.playbook)!,
          values: {
            "machine.id": machine.id,
            "machine.computerDnsName": machine.computerDnsName ?? undefined,
            "plan.name": plan.name,
            "plan.scheduledFor": scheduledFor,
          },
          parameters: plan.parameters,
          defaultComment: `${DEFAULT_COMMENT} (plan ${plan.name})`,
        },
        trigger: { kind: "schedule", plan: plan.name, scheduledFor, playbook: plan.playbook },
        policy,
      });
      if (outcome.kind === "refused") {
        counts.refused++;
        log.warn("scheduled collection refused", { ...about, problems: describeProblems(outcome.problems) });
        continue;
      }
      counts[outcome.kind === "started" ? "started" : "existing"]++;
      log.info(outcome.kind === "started" ? "scheduled collection started" : "scheduled collection already started", {
        instanceId: outcome.instanceId,
        ...about,
        startAfter: policy.startAfter ?? null,
      });
    }
    log.info("scheduled run finished", { scheduledFor, plans: deps.plans.plans.length, machines: planned.length, ...counts });
  };
}
