/** What the governor answers: go, wait (to be handled exactly like MDE's 429 with Retry-After), or a refusal with a code. */

/** Why a caller waits. */
export type WaitReason = "submissionWindow" | "sessionSlot" | "readBudget" | "backoff";

/** Call MDE now. */
export interface Granted {
  kind: "granted";
  /** Submissions: the session lease now runs until this instant (ms). */
  sessionUntil?: number;
}

/** Do not call MDE before `waitMs` from now; answer the orchestrator as a 429 with this Retry-After. */
export interface Wait {
  kind: "wait";
  waitMs: number;
  reason: WaitReason;
}

export type GovernorRefusalCode =
  /** The queue for session slots (or for reservations) is at its cap. */
  | "QueueFull"
  /** The state could not be read or written (storage failing, or too many writers at once) after retries. */
  | "GovernorUnavailable"
  /** The holder id is empty or too long. */
  | "InvalidHolder";

/** The governor could not decide; `retryAfterMs` is a sensible wait should the caller treat it as throttled. */
export interface GovernorRefusal {
  kind: "refused";
  code: GovernorRefusalCode;
  message: string;
  retryAfterMs: number;
}

export type GovernorAnswer = Granted | Wait | GovernorRefusal;

/** renewSession: the lease now runs until `until`, or the slot was lost (expired and taken) and none is free. */
export type RenewAnswer = { kind: "renewed"; until: number; readmitted: boolean } | { kind: "lost" } | GovernorRefusal;

/** releaseSession: `held` says whether the holder had anything (a lease, a reservation, a place in the queue). */
export type ReleaseAnswer = { kind: "released"; held: boolean } | GovernorRefusal;

/** reportThrottled: the whole tenant waits for the endpoint until `until`. */
export type BackoffAnswer = { kind: "backedOff"; until: number } | GovernorRefusal;
