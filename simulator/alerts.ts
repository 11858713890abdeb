import { badRequest, notFound } from "./errors";
import type { ApiAnswer, RequestContext } from "./liveResponseApi";

/** Alert ids as MDE writes them (`da637472900382838869_1364969609`, `da<guid>_1`). */
const ALERT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The alerts `GET /api/alerts/{id}` answers (https://learn.microsoft.com/defender-endpoint/api/get-alert-info-by-id):
 * seeded by tests and `POST /simulator/alerts` as MDE alert entities
 * (https://learn.microsoft.com/defender-endpoint/api/alerts), stored as given.
 */
export class AlertStore {
  private readonly byId = new Map<string, Record<string, unknown>>();

  /** @throws Error for a body that is not an alert with an id, or an id already present */
  add(input: unknown): Record<string, unknown> {
    if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error("An alert must be a JSON object");
    const alert = structuredClone(input) as Record<string, unknown>;
    if (typeof alert.id !== "string" || !ALERT_ID.test(alert.id))
      throw new Error("An alert needs an id of letters, digits, '_', '.', ':' or '-' (at most 128)");
    const key = alert.id.toLowerCase();
    if (this.byId.has(key)) throw new Error(`Alert ${alert.id} already exists`);
    this.byId.set(key, alert);
    return structuredClone(alert);
  }

  list(): Record<string, unknown>[] {
    return [...this.byId.values()].map((a) => structuredClone(a));
  }

  /**
   * The alert entity; `evidence` only with `$expand=evidence`, the one query option this endpoint takes.
   * @throws SimulatorHttpError 404 `NotFound` for an unknown id, 400 `InvalidInput` for another query option
   */
  get(alertId: string, query: URLSearchParams, ctx: RequestContext): ApiAnswer {
    for (const key of query.keys()) {
      if (key !== "$expand") throw badRequest("InvalidInput", `Query option '${key}' is not supported`);
    }
    const expand = query.get("$expand");
    if (expand !== null && expand.toLowerCase() !== "evidence")
      throw badRequest("InvalidInput", `Cannot expand '${expand}' (only evidence)`);
    const alert = this.byId.get(alertId.toLowerCase());
    if (!alert) throw notFound(`Alert ${alertId} was not found`);
    const { evidence, ...rest } = structuredClone(alert);
    return {
      status: 200,
      body: {
        "@odata.context": `${ctx.serviceRoot}/$metadata#Alerts/$entity`,
        ...rest,
        ...(expand === null ? {} : { evidence: evidence ?? [] }),
      },
    };
  }
}
