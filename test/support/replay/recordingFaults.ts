/**
 * Faults injected around the real MDE client and evidence store while replay fixtures are
 * recorded, per machine and counted per call, so that the recorded histories reach every place the
 * orchestrator waits or decides (throttling, outages beyond the activity retries, lost answers...).
 */
import type { AppServices } from "../../../app";
import { CollectorError, MdeApiError } from "../../../shared/errors";
import type { EvidenceStore } from "../../../shared/evidence/types";
import type { MdeApi } from "../../../shared/mde/api";

/** Faults for one machine; call numbers are 1-based and counted per machine action (or per machine). */
export interface Faults {
  /** 429 without Retry-After on the first N submissions (the policy's fallback delay applies). */
  submitThrottles?: number;
  /** While set, a submission reaches MDE but its answer is lost (503), and lookups after it fail too. */
  submitAnswersLost?: boolean;
  /** 429 with Retry-After on these status polls. */
  pollThrottles?: number[];
  /** 503 on this many status polls from poll `from` on: more than one round of activity retries. */
  pollOutage?: { from: number; calls: number };
  /** Runs `run` during status poll `n`: a cancel raised while an activity runs. */
  duringPoll?: { n: number; run: () => void };
  /** 429 with Retry-After on these download-link requests. */
  linkThrottles?: number[];
  /** 404 on these download-link requests. */
  linkRejections?: number[];
  /** 503 on this many download-link requests from request `from` on. */
  linkFailures?: { from: number; calls: number };
  /** The source changes under the machine's first N chunk copies, over all its results (the copy must start over). */
  copyRestarts?: number;
  /** 429 with Retry-After on the first N cancel requests. */
  cancelThrottles?: number;
  /** The evidence store refuses the first N manifest writes. */
  manifestFailures?: number;
}

const unavailable = () => new MdeApiError({ statusCode: 503, code: "ServiceUnavailable", message: "try later" });
const throttled = (retryAfterInMs?: number) =>
  new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", retryAfterInMs });
const notFound = () => new MdeApiError({ statusCode: 404, code: "ResourceNotFound", message: "no result for this command" });
const within = (n: number, range?: { from: number; calls: number }) =>
  range !== undefined && n >= range.from && n < range.from + range.calls;

/** Wraps the app's services (pass {@link FaultInjector.wrap} as the harness's `wrapServices`). */
export class FaultInjector {
  readonly #faults = new Map<string, Faults>();
  readonly #calls = new Map<string, number>();
  readonly #machineOfAction = new Map<string, string>();
  #realMde: MdeApi | undefined;

  /** Faults for this machine from now on (the object may be changed later: it is read at each call). */
  set(machineId: string, faults: Faults): void {
    this.#faults.set(machineId, faults);
  }

  /** The real MDE client, for sessions the collector did not start. */
  get realMde(): MdeApi {
    if (!this.#realMde) throw new Error("FaultInjector.wrap has not run yet");
    return this.#realMde;
  }

  wrap(services: AppServices): AppServices {
    this.#realMde = services.mde;
    return { ...services, mde: this.#wrapMde(services.mde), evidence: this.#wrapEvidence(services.evidence) };
  }

  #count(key: string): number {
    const n = (this.#calls.get(key) ?? 0) + 1;
    this.#calls.set(key, n);
    return n;
  }

  #of(actionId: string): Faults {
    return this.#faults.get(this.#machineOfAction.get(actionId) ?? "") ?? {};
  }

  #remember<T extends { id: string; machineId: string }>(action: T): T {
    this.#machineOfAction.set(action.id, action.machineId);
    return action;
  }

  #wrapMde(real: MdeApi): MdeApi {
    return {
      runLiveResponse: async (machineId, request, options) => {
        const f = this.#faults.get(machineId) ?? {};
        if (this.#count(`submit:${machineId}`) <= (f.submitThrottles ?? 0)) throw throttled();
        const action = this.#remember(await real.runLiveResponse(machineId, request, options));
        if (f.submitAnswersLost) throw unavailable();
        return action;
      },
      listMachineActions: async (query, options) => {
        // Only once a submission went through: the first lookup of a first attempt finds nothing either way.
        const lost = [...this.#faults].some(
          ([id, f]) => f.submitAnswersLost && this.#calls.has(`submit:${id}`) && query.filter?.includes(id),
        );
        if (lost) throw unavailable();
        return (await real.listMachineActions(query, options)).map((a) => this.#remember(a));
      },
      getMachineAction: async (actionId, options) => {
        const f = this.#of(actionId);
        const n = this.#count(`poll:${actionId}`);
        if (f.duringPoll?.n === n) f.duringPoll.run();
        if (f.pollThrottles?.includes(n)) throw throttled(30_000);
        if (within(n, f.pollOutage)) throw unavailable();
        return this.#remember(await real.getMachineAction(actionId, options));
      },
      getLiveResponseResultDownloadLink: async (actionId, index, options) => {
        const f = this.#of(actionId);
        const n = this.#count(`link:${actionId}`);
        if (f.linkThrottles?.includes(n)) throw throttled(5_000);
        if (f.linkRejections?.includes(n)) throw notFound();
        if (within(n, f.linkFailures)) throw unavailable();
        return real.getLiveResponseResultDownloadLink(actionId, index, options);
      },
      cancelMachineAction: async (actionId, comment, options) => {
        if (this.#count(`cancel:${actionId}`) <= (this.#of(actionId).cancelThrottles ?? 0)) throw throttled(10_000);
        return real.cancelMachineAction(actionId, comment, options);
      },
      listMachines: (...a) => real.listMachines(...a),
      getAlert: (...a) => real.getAlert(...a),
      // Calls no scenario faults: the library check before a submission, the manifest's action as returned.
      ...(real.listLibraryFiles ? { listLibraryFiles: (...a) => real.listLibraryFiles!(...a) } : {}),
      ...(real.getMachineActionAsReturned ? { getMachineActionAsReturned: (...a) => real.getMachineActionAsReturned!(...a) } : {}),
    };
  }

  #wrapEvidence(real: EvidenceStore): EvidenceStore {
    const machineOfBlob = (blobName: string) => [...this.#faults.keys()].find((id) => blobName.includes(`/${id}/`)) ?? "";
    // Counted per machine, over all of its blobs.
    const fails = (kind: "manifest" | "copy", blobName: string, field: "manifestFailures" | "copyRestarts") => {
      const machineId = machineOfBlob(blobName);
      return this.#count(`${kind}:${machineId}`) <= (this.#faults.get(machineId)?.[field] ?? 0);
    };
    const writeJson: EvidenceStore["writeJson"] = async (...args) => {
      if (fails("manifest", args[0], "manifestFailures")) throw new Error("storage unavailable");
      return real.writeJson(...args);
    };
    const copyChunk: EvidenceStore["copyChunk"] = async (...args) => {
      if (fails("copy", args[2].blobName, "copyRestarts"))
        throw new CollectorError("SourceChanged", "the result changed while it was being copied");
      return real.copyChunk(...args);
    };
    return new Proxy(real, {
      get(target, prop) {
        if (prop === "writeJson") return writeJson;
        if (prop === "copyChunk") return copyChunk;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
