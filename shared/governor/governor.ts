/**
 * The tenant-wide MDE rate governor. An activity asks it before calling MDE; when it says wait, the
 * activity answers exactly as if MDE had answered 429 with that Retry-After. Every decision is a
 * read-modify-write of one small document under an ETag condition, retried with jitter when another
 * writer got there first, so any number of activities on any number of instances agree. Within one
 * process the decisions of a Governor run one at a time: activities of one worker queue here instead
 * of colliding on the ETag (a batch of 500 submissions would otherwise make about N²/2 reads). Time always
 * comes from the caller (`now`, ms since the epoch): the governor never reads a clock.
 */
import { silentLogger, type Logger } from "../log";
import type { BackoffAnswer, GovernorAnswer, GovernorRefusal, ReleaseAnswer, RenewAnswer } from "./governorAnswers";
import {
  emptyDocument,
  parseDocument,
  pruneDocument,
  READ_ENDPOINTS,
  type GovernedEndpoint,
  type GovernorDocument,
  type ReadEndpoint,
} from "./governorDocument";
import type { GovernorLimits } from "./governorLimits";
import { decideRead, decideRelease, decideRenewal, decideSubmission, decideThrottled, headWaiters, type Decision } from "./governorRules";
import type { GovernorStore } from "./governorStore";
import { THROTTLE_FALLBACK_DELAY_IN_MS } from "../timing";

export interface GovernorOptions {
  /** Read-modify-write attempts when other writers keep winning. @default 40 */
  maxAttempts?: number;
  /** Storage failures (not conflicts) tolerated within one decision. @default 3 */
  maxStorageFailures?: number;
  /** Backoff after a conflict: random up to base * 2^attempt, at most max. @default 10 ms, 1 s */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The wait suggested with GovernorUnavailable. @default 30 s */
  unavailableRetryAfterMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

/** Counters of storage work, for measuring the cost of a decision under contention. */
export interface GovernorStats {
  decisions: number;
  reads: number;
  writes: number;
  conflicts: number;
  storageFailures: number;
}

/** A read's answer, with what became of the session renewal that came with it. */
export type ReadAnswer = GovernorAnswer & { renewal?: RenewAnswer };

export class Governor {
  readonly stats: GovernorStats = { decisions: 0, reads: 0, writes: 0, conflicts: 0, storageFailures: 0 };
  private readonly options: Required<Omit<GovernorOptions, "logger">> & { logger: Logger };
  /** The decision running in this process, if any; the next one starts after it settles. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: GovernorStore,
    readonly limits: GovernorLimits,
    options: GovernorOptions = {},
  ) {
    this.options = {
      maxAttempts: 40,
      maxStorageFailures: 3,
      retryBaseMs: 10,
      retryMaxMs: 1_000,
      unavailableRetryAfterMs: 30_000,
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      logger: silentLogger,
      ...options,
    };
  }

  /**
   * Before POST runliveresponse: granted (a slot is held and the submission counted), or wait. The
   * holder is the orchestration instance id; asking again is idempotent (same slot, same reservation).
   */
  async acquireSubmission(holder: string, now: number, options: { wakeable?: boolean } = {}): Promise<GovernorAnswer> {
    const invalid = this.invalidHolder(holder);
    if (invalid) return invalid;
    return this.transact(now, (doc) => decideSubmission(doc, holder, now, this.limits, options));
  }

  /** From each status poll: the lease runs another lease period from `now`. */
  async renewSession(holder: string, now: number): Promise<RenewAnswer> {
    const invalid = this.invalidHolder(holder);
    if (invalid) return invalid;
    return this.transact(now, (doc) => decideRenewal(doc, holder, now, this.limits));
  }

  /** When the session ended (or the collection gave up): the slot, reservation and queue place go. Idempotent. */
  async releaseSession(holder: string, now: number): Promise<ReleaseAnswer> {
    const invalid = this.invalidHolder(holder);
    if (invalid) return invalid;
    return this.transact(now, (doc) => decideRelease(doc, holder));
  }

  /**
   * What one batched status poll saw, in one write: sessions still pending or running in MDE keep
   * (or regain) their slots for another lease, final ones give them back. Idempotent. The answer
   * names the waiters at the head of the queue that the free slots could take now: the caller wakes them.
   */
  async observeSessions(
    sessions: { renew: string[]; release: string[] },
    now: number,
  ): Promise<{ kind: "observed"; wake: string[] } | GovernorRefusal> {
    const holders = [...sessions.renew, ...sessions.release];
    const invalid = holders.map((h) => this.invalidHolder(h)).find((r) => r !== undefined);
    if (invalid) return invalid;
    return this.transact(now, (doc): Decision<{ kind: "observed"; wake: string[] }> => {
      let changed = false;
      for (const holder of sessions.release) changed = decideRelease(doc, holder).changed || changed;
      for (const holder of sessions.renew) changed = decideRenewal(doc, holder, now, this.limits).changed || changed;
      return { answer: { kind: "observed", wake: headWaiters(doc, this.limits) }, changed };
    });
  }

  /**
   * Before a read of `endpoint`: granted (counted) or wait. With `renewSessionOf`, the holder's lease is
   * renewed in the same write, granted or not, so a poll held back by the budget keeps its slot.
   */
  async acquireRead(endpoint: ReadEndpoint, now: number, options: { renewSessionOf?: string } = {}): Promise<ReadAnswer> {
    if (!(READ_ENDPOINTS as readonly string[]).includes(endpoint)) throw new TypeError(`not a governed read endpoint: ${String(endpoint)}`);
    const holder = options.renewSessionOf;
    const invalid = holder === undefined ? undefined : this.invalidHolder(holder);
    if (invalid) return invalid;
    return this.transact(now, (doc): Decision<ReadAnswer> => {
      const renewal = holder === undefined ? undefined : decideRenewal(doc, holder, now, this.limits);
      const read = decideRead(doc, endpoint, now, this.limits);
      return { answer: renewal ? { ...read.answer, renewal: renewal.answer } : read.answer, changed: read.changed || !!renewal?.changed };
    });
  }

  /** MDE answered 429 anyway: the whole tenant waits `retryAfterMs` (or a minute when MDE named none) on that endpoint. */
  async reportThrottled(endpoint: GovernedEndpoint, retryAfterMs: number | undefined, now: number): Promise<BackoffAnswer> {
    const delay = retryAfterMs ?? THROTTLE_FALLBACK_DELAY_IN_MS;
    return this.transact(now, (doc) => decideThrottled(doc, endpoint, delay, now, this.limits));
  }

  private invalidHolder(holder: string): GovernorRefusal | undefined {
    if (typeof holder === "string" && holder.length > 0 && holder.length <= this.limits.maxHolderLength) return undefined;
    return {
      kind: "refused",
      code: "InvalidHolder",
      message: `a holder id must be 1-${this.limits.maxHolderLength} characters`,
      retryAfterMs: 0,
    };
  }

  /** One decision: read, prune, decide, write back if changed; again with jitter when another writer won. */
  private transact<A>(now: number, decide: (doc: GovernorDocument) => Decision<A>): Promise<A | GovernorRefusal> {
    const run = this.tail.then(() => this.transactNow(now, decide));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async transactNow<A>(now: number, decide: (doc: GovernorDocument) => Decision<A>): Promise<A | GovernorRefusal> {
    const { maxAttempts, maxStorageFailures, logger } = this.options;
    this.stats.decisions++;
    let storageFailures = 0;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        this.stats.reads++;
        const stored = await this.store.read();
        const parsed = stored === undefined ? undefined : parseDocument(stored.document);
        if (stored !== undefined && parsed === undefined) logger.warn("governor state unreadable, starting afresh", { etag: stored.etag });
        const doc = parsed ?? emptyDocument();
        pruneDocument(doc, now, this.limits);
        const { answer, changed } = decide(doc);
        if (!changed) return answer;
        this.stats.writes++;
        if ((await this.store.write(doc, stored?.etag)) === "written") return answer;
        this.stats.conflicts++;
      } catch (e) {
        this.stats.storageFailures++;
        if (++storageFailures >= maxStorageFailures) {
          logger.warn("governor storage failing", { attempts: attempt, error: e instanceof Error ? e.message.slice(0, 200) : "unknown" });
          return this.unavailable("the governor's state could not be read or written");
        }
      }
      await this.options.sleep(this.backoffMs(attempt));
    }
    logger.warn("governor contended", { attempts: maxAttempts });
    return this.unavailable("too many writers of the governor's state at once");
  }

  /** Full jitter: writers that collided spread out instead of colliding again. */
  private backoffMs(attempt: number): number {
    const { retryBaseMs, retryMaxMs, random } = this.options;
    return Math.floor(random() * Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt, 20)));
  }

  private unavailable(message: string): GovernorRefusal {
    const { unavailableRetryAfterMs, random } = this.options;
    // Jittered, so that callers refused together do not all come back together.
    const retryAfterMs = Math.round(unavailableRetryAfterMs * (1 + random()));
    return { kind: "refused", code: "GovernorUnavailable", message, retryAfterMs };
  }
}
