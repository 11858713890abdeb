/**
 * The app roles of the collector's API app registration, one per kind of access, and the optional
 * scope that narrows what a role lets its holder run. Pure.
 * Entra app roles: https://learn.microsoft.com/entra/identity-platform/howto-add-app-roles-in-apps
 */
import type { SettingProblem } from "../errors";
import { isRecord } from "../validation";

/** Built-in roles: each HTTP endpoint requires one. */
export const Roles = {
  /** Start a collection (POST /api/liveresponse). */
  run: "Collector.Run",
  /** Read a collection's status. */
  read: "Collector.Read",
  /** Cancel a collection. */
  cancel: "Collector.Cancel",
  /** Nominate alerts (POST /api/alerts): the collector reads each from MDE and applies its own rules; nothing else. */
  alert: "Collector.Alert",
} as const;
export type Permission = keyof typeof Roles;

/** What a role holder may start; an absent field means no restriction on it. */
export interface RunScope {
  /** Playbooks the holder may start; raw `commands` are refused when set, unless `rawCommands` is true. */
  playbooks?: string[];
  /** Command types the holder may run (RunScript, GetFile, PutFile). */
  commandTypes?: string[];
  /** Allow raw `commands` in the request even though `playbooks` is set. @default false when playbooks is set */
  rawCommands?: boolean;
  /** MDE machine tags: the target device must carry one of them (checked with MDE before starting). */
  machineTags?: string[];
}

/** A role name (built-in or custom) and what it grants. */
export interface RoleDefinition {
  role: string;
  permission: Permission;
  scope?: RunScope;
}

const PERMISSIONS = new Set<string>(Object.keys(Roles));
const SCOPE_FIELDS = new Set(["grants", "playbooks", "commandTypes", "rawCommands", "machineTags"]);
const COMMAND_TYPES = new Set(["RunScript", "GetFile", "PutFile"]);

/**
 * Parses AUTH_ROLE_SCOPES: a JSON object from role name to `{ grants?, playbooks?, commandTypes?,
 * rawCommands?, machineTags? }`. A built-in role listed there keeps its permission and gains the scope;
 * a custom role must say which permission it `grants` ("run", "read" or "cancel").
 * @returns the role definitions (built-ins included) and every problem found
 */
export function parseRoleScopes(json: string | undefined): { roles: RoleDefinition[]; problems: SettingProblem[] } {
  const builtIns = new Map<string, RoleDefinition>(
    (Object.entries(Roles) as [Permission, string][]).map(([permission, role]) => [role, { role, permission }]),
  );
  const problems: SettingProblem[] = [];
  const problem = (message: string) => problems.push({ setting: "AUTH_ROLE_SCOPES", problem: message });
  if (json === undefined) return { roles: [...builtIns.values()], problems };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    problem("must be a JSON object from role name to scope");
    return { roles: [...builtIns.values()], problems };
  }
  if (!isRecord(parsed)) {
    problem("must be a JSON object from role name to scope");
    return { roles: [...builtIns.values()], problems };
  }
  for (const [role, value] of Object.entries(parsed)) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(role)) {
      problem(`role names are letters, digits, '.', '_', '-' (got ${JSON.stringify(role.slice(0, 40))})`);
      continue;
    }
    if (!isRecord(value)) {
      problem(`${role}: must be an object`);
      continue;
    }
    for (const key of Object.keys(value)) if (!SCOPE_FIELDS.has(key)) problem(`${role}: unknown field ${JSON.stringify(key.slice(0, 40))}`);
    const builtIn = builtIns.get(role);
    const grants = value.grants ?? builtIn?.permission;
    if (typeof grants !== "string" || !PERMISSIONS.has(grants) || (builtIn && grants !== builtIn.permission)) {
      problem(`${role}: grants must be one of run, read, cancel, alert${builtIn ? ` (${role} grants ${builtIn.permission})` : ""}`);
      continue;
    }
    const scope: RunScope = {};
    for (const field of ["playbooks", "commandTypes", "machineTags"] as const) {
      const list = value[field];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string" && x.length > 0 && x.length <= 200)) {
        problem(`${role}.${field}: must be a non-empty list of strings`);
        continue;
      }
      if (field === "commandTypes" && !list.every((t) => COMMAND_TYPES.has(t)))
        problem(`${role}.commandTypes: only RunScript, GetFile, PutFile`);
      scope[field] = list;
    }
    if (value.rawCommands !== undefined) {
      if (typeof value.rawCommands !== "boolean") problem(`${role}.rawCommands: must be true or false`);
      else scope.rawCommands = value.rawCommands;
    }
    if (Object.keys(scope).length > 0 && grants !== "run") problem(`${role}: a scope applies only to roles that grant run`);
    builtIns.set(role, { role, permission: grants as Permission, ...(Object.keys(scope).length > 0 ? { scope } : {}) });
  }
  return { roles: [...builtIns.values()], problems };
}

/**
 * The definitions among the caller's roles that grant a permission. Empty: the caller lacks it.
 * For `run`, one matching role without a scope means no restriction.
 */
export function grantsOf(definitions: readonly RoleDefinition[], callerRoles: readonly string[], permission: Permission): RoleDefinition[] {
  return definitions.filter((d) => d.permission === permission && callerRoles.includes(d.role));
}

/** What a collection request asks for, as far as scopes care. */
export interface RunRequestFacts {
  playbook?: string;
  commandTypes: string[];
  machineTags?: string[];
}

/**
 * Whether one of the granting roles allows this request; the reason names what is outside the scope.
 * `machineTags` in a scope needs `facts.machineTags` (looked up in MDE by the caller of this function).
 */
export function runAllowed(grants: readonly RoleDefinition[], facts: RunRequestFacts): { ok: true } | { ok: false; reason: string } {
  const reasons: string[] = [];
  for (const { role, scope } of grants) {
    if (!scope) return { ok: true };
    const why = scopeRefusal(scope, facts);
    if (!why) return { ok: true };
    reasons.push(`${role}: ${why}`);
  }
  return { ok: false, reason: reasons.join("; ") || "no role grants this" };
}

/** Whether a scope needs the device's MDE tags to decide. */
export function needsMachineTags(grants: readonly RoleDefinition[]): boolean {
  return grants.length > 0 && grants.every((g) => g.scope?.machineTags !== undefined);
}

function scopeRefusal(scope: RunScope, facts: RunRequestFacts): string | undefined {
  if (scope.playbooks) {
    if (facts.playbook === undefined && !scope.rawCommands) return "only playbooks may be started";
    if (facts.playbook !== undefined && !scope.playbooks.includes(facts.playbook))
      return `playbook ${facts.playbook} is outside the role's scope`;
  }
  if (scope.commandTypes) {
    const outside = facts.commandTypes.filter((t) => !scope.commandTypes!.includes(t));
    if (outside.length > 0) return `command type ${outside[0]} is outside the role's scope`;
  }
  if (scope.machineTags) {
    const tags = facts.machineTags ?? [];
    if (!tags.some((t) => scope.machineTags!.includes(t))) return "the device carries none of the role's machine tags";
  }
  return undefined;
}
