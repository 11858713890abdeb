/**
 * The activities' side of the tenant-wide governor (shared/governor/governor.ts): ask before each MDE
 * call, and when it says wait answer the orchestrator exactly like an MDE 429 with that Retry-After
 * (`{ kind: "throttled", retryAfterInMs }`), which it already honours through shared/timing.ts. So the
 * orchestrators' sequence of tasks is unchanged. A refusal fails closed: the governor could not decide,
 * so nothing is called and the caller waits the refusal's (jittered) retryAfterMs.
 */
import type { Throttled } from "../shared/contract";
import { MdeApiError } from "../shared/errors";
import type { Governor } from "../shared/governor/governor";
import type { GovernorAnswer, RenewAnswer } from "../shared/governor/governorAnswers";
import type { GovernedEndpoint, ReadEndpoint } from "../shared/governor/governorDocument";
import type { Logger } from "../shared/log";
import { CORRELATION_MARKER_PREFIX } from "../shared/validation";

/** What the activities use of the governor (tests pass fakes). */
export type GovernorPort = Pick<
  Governor,
  "acquireSubmission" | "acquireRead" | "releaseSession" | "renewSession" | "reportThrottled" | "observeSessions"
>;

/** The governor and the clock of the activities: production's Date, or the harness's virtual clock. */
export interface GovernorDeps {
  /** Absent (GOVERNOR_ENABLED=false, or a test without one): every call goes straight to MDE. */
  governor?: GovernorPort;
  /** @default () => new Date() */
  now?: () => Date;
}

/** One activity invocation's view of the governor; every method is a no-op without one. */
export class Governed {
  private readonly now: () => Date;
  constructor(
    private readonly deps: GovernorDeps,
    private readonly log: Logger,
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Before a read of `endpoint`: undefined to go, or the throttled answer to return instead. */
  async beforeRead(endpoint: ReadEndpoint): Promise<Throttled | undefined> {
    if (!this.deps.governor) return undefined;
    return this.asThrottled(endpoint, await this.deps.governor.acquireRead(endpoint, this.time()));
  }

  /**
   * Right before POST runliveresponse: a session slot and a submission token for `holder`, or wait.
   * `wakeable`: the holder is woken when a slot frees (a watched collection), so a wait for a slot is long.
   */
  async beforeSubmission(holder: string, options: { wakeable?: boolean } = {}): Promise<Throttled | undefined> {
    if (!this.deps.governor) return undefined;
    return this.asThrottled("runLiveResponse", await this.deps.governor.acquireSubmission(holder, this.time(), options));
  }

  /** After an MDE error: a 429 backs the whole tenant off `endpoint` by its Retry-After. */
  async afterError(endpoint: GovernedEndpoint, e: unknown): Promise<void> {
    if (!this.deps.governor || !(e instanceof MdeApiError) || e.statusCode !== 429) return;
    const answer = await this.deps.governor.reportThrottled(endpoint, e.retryAfterInMs, this.time());
    if (answer.kind === "refused") this.log.warn("governor did not record MDE's 429", { endpoint, code: answer.code });
  }

  /** The holder's session ended (or never started): its slot, reservation and queue place go. Idempotent. */
  async release(holder: string): Promise<void> {
    if (!this.deps.governor) return;
    const answer = await this.deps.governor.releaseSession(holder, this.time());
    // Not fatal: the lease expires on its own.
    if (answer.kind === "refused") this.log.warn("governor did not release a session slot", { holder, code: answer.code });
  }

  /** A poll saw the session still running: its lease runs on. A lost slot is logged; the collection carries on. */
  async renew(holder: string): Promise<void> {
    if (!this.deps.governor) return;
    const answer: RenewAnswer = await this.deps.governor.renewSession(holder, this.time());
    if (answer.kind === "lost") this.log.warn("governor session slot lost; the session runs on in MDE", { holder });
    else if (answer.kind === "refused") this.log.warn("governor did not renew a session slot", { holder, code: answer.code });
  }

  private time(): number {
    return this.now().getTime();
  }

  private asThrottled(endpoint: GovernedEndpoint, answer: GovernorAnswer): Throttled | undefined {
    if (answer.kind === "granted") return undefined;
    if (answer.kind === "wait") return { kind: "throttled", retryAfterInMs: answer.waitMs };
    this.log.warn("governor refused; waiting as if MDE had throttled", { endpoint, code: answer.code, retryAfterMs: answer.retryAfterMs });
    return { kind: "throttled", retryAfterInMs: answer.retryAfterMs };
  }
}

/** The orchestration instance id inside a correlation marker `[collector:<id>]`, or undefined. */
export function holderOfMarker(marker: string): string | undefined {
  if (!marker.startsWith(CORRELATION_MARKER_PREFIX) || !marker.endsWith("]")) return undefined;
  const id = marker.slice(CORRELATION_MARKER_PREFIX.length, -1);
  return id.length > 0 ? id : undefined;
}

/**
 * The instance that submitted an action, from the marker its comment ends with. Activities that get
 * only an action id (getMachineAction) learn their holder this way: the activity input carries no
 * instance id, and an activity cannot read its orchestration's (https://github.com/Azure/azure-functions-durable-js/issues/242).
 */
export function holderOfComment(comment: string | null | undefined): string | undefined {
  const text = comment ?? "";
  const at = text.lastIndexOf(` ${CORRELATION_MARKER_PREFIX}`);
  return at < 0 ? undefined : holderOfMarker(text.slice(at + 1));
}
