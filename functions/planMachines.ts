import type { CollectionPlan } from "../shared/collectionPlans";
import { errorMessage, MdeApiError } from "../shared/errors";
import type { Logger } from "../shared/log";
import type { MdeApi } from "../shared/mde/api";

/** A machine a plan selected, with the DNS name when MDE listed it. */
export interface PlannedCollection {
  plan: CollectionPlan;
  machine: { id: string; computerDnsName: string | null };
}

/**
 * Resolves each plan's machines, in plan order: listed ids as they are, filters through
 * `GET /api/machines`. A plan whose list call fails is logged and skipped, so one bad filter does
 * not stop the other plans.
 */
export async function planMachines(mde: MdeApi, plans: readonly CollectionPlan[], log: Logger): Promise<PlannedCollection[]> {
  const out: PlannedCollection[] = [];
  for (const plan of plans) {
    if ("machineIds" in plan.machines) {
      for (const id of plan.machines.machineIds) out.push({ plan, machine: { id, computerDnsName: null } });
      continue;
    }
    try {
      const machines = await mde.listMachines({ filter: plan.machines.filter, top: plan.machines.top });
      for (const m of machines) out.push({ plan, machine: { id: m.id, computerDnsName: m.computerDnsName } });
      log.info("plan machines listed", { plan: plan.name, machines: machines.length });
    } catch (e) {
      log.error("plan machines could not be listed; plan skipped", {
        plan: plan.name,
        status: e instanceof MdeApiError ? e.statusCode : undefined,
        code: e instanceof MdeApiError ? e.code : undefined,
        error: errorMessage(e),
      });
    }
  }
  return out;
}
