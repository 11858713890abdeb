/**
 * Actions an orchestrator episode returns (durable-functions `OrchestratorState.actions`, replay
 * schema V3: one cumulative list whose WhenAll/WhenAny entries nest `compoundActions`).
 */

/** ActionType of durable-functions (`lib/src/actions/ActionType.js`). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** Retry options as the library serializes them (`RetryOptions`). */
export interface WireRetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** One action after a JSON round trip (dates are ISO strings), as the extension would read it. */
export interface WireAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  retryOptions?: WireRetryOptions;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: WireAction[];
  [field: string]: unknown;
}

/** The orchestrator's answer (durable-functions `OrchestratorState`), after a JSON round trip. */
export interface WireOrchestratorState {
  isDone: boolean;
  actions: WireAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Narrows an orchestrator handler's return value (or the state embedded in its error). */
export function parseOrchestratorState(value: unknown): WireOrchestratorState {
  const json: unknown = JSON.parse(JSON.stringify(value ?? null));
  if (!isRecord(json) || typeof json.isDone !== "boolean" || !Array.isArray(json.actions)) {
    throw new Error(`Orchestrator returned something that is not an OrchestratorState: ${JSON.stringify(json)}`);
  }
  return json as unknown as WireOrchestratorState;
}

/** Label the library puts between an orchestrator's error message and its state. */
export const OUT_OF_PROC_DATA_LABEL = "$OutOfProcData$:";

/**
 * Splits an OrchestrationFailureError message (`<message>\n\n$OutOfProcData$:<state JSON>`).
 * @returns the user's error message and, when present, the embedded state
 */
export function parseOrchestrationFailure(message: string): { message: string; state?: WireOrchestratorState } {
  const at = message.indexOf(OUT_OF_PROC_DATA_LABEL);
  if (at < 0) return { message };
  const prefix = message.slice(0, at).replace(/\s+$/, "");
  try {
    const state = parseOrchestratorState(JSON.parse(message.slice(at + OUT_OF_PROC_DATA_LABEL.length)));
    return { message: state.error ?? prefix, state };
  } catch {
    return { message: prefix };
  }
}

/** Top-level actions of a V3 state (the single outer array). */
export function topLevelActions(state: WireOrchestratorState): WireAction[] {
  return state.actions.flat();
}

/** Leaf actions in the order the library assigns task ids (depth first through WhenAll/WhenAny). */
export function leafActions(actions: WireAction[]): WireAction[] {
  const out: WireAction[] = [];
  const walk = (list: WireAction[]): void => {
    for (const a of list) {
      if ((a.actionType === ActionType.WhenAll || a.actionType === ActionType.WhenAny) && a.compoundActions) {
        walk(a.compoundActions);
      } else {
        out.push(a);
      }
    }
  };
  walk(actions);
  return out;
}

// isCanceled flips when a losing timer is cancelled: that is not a change of the schedule.
function canonical(action: WireAction): string {
  return JSON.stringify(action, (key, value: unknown) => (key === "isCanceled" ? undefined : value));
}

/** Human-readable one-liner of an action for error messages. */
export function describeAction(action: WireAction): string {
  const type = Object.entries(ActionType).find(([, v]) => v === action.actionType)?.[0] ?? `ActionType(${action.actionType})`;
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return `${type} '${action.functionName ?? "?"}' input=${JSON.stringify(action.input) ?? "undefined"}`;
    case ActionType.CreateTimer:
      return `${type} fireAt=${action.fireAt ?? "?"}`;
    case ActionType.WaitForExternalEvent:
      return `${type} '${action.externalEventName ?? "?"}'`;
    case ActionType.WhenAll:
    case ActionType.WhenAny:
      return `${type}[${(action.compoundActions ?? []).map(describeAction).join(", ")}]`;
    default:
      return type;
  }
}

/** Raised when a replay emits actions that differ from the ones already scheduled. */
export class NonDeterminismError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NonDeterminismError";
  }
}

/**
 * Checks that the first `previous.length` actions of this replay equal those scheduled before.
 * @throws NonDeterminismError naming the first differing action
 */
export function assertDeterministic(previous: WireAction[], current: WireAction[]): void {
  for (let i = 0; i < previous.length; i++) {
    const before = previous[i]!;
    const now = current[i];
    if (now === undefined) {
      throw new NonDeterminismError(
        `Non-deterministic orchestrator: action #${i} (${describeAction(before)}) was scheduled by an earlier replay but is missing from this one.`,
      );
    }
    if (canonical(before) !== canonical(now)) {
      throw new NonDeterminismError(
        `Non-deterministic orchestrator: action #${i} was ${describeAction(before)} on an earlier replay, now ${describeAction(now)}.`,
      );
    }
  }
}
