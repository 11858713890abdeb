/**
 * Who called, as the token (or the platform) proved it. Recorded in the orchestration's input, its
 * status and the manifest: never a name the caller typed.
 */
export interface VerifiedCaller {
  /** `user` (delegated token), `application` (client credentials, managed identity) or `development` (local signing key). */
  kind: "user" | "application" | "development";
  /** Entra object id (`oid`) of the user or service principal. */
  objectId: string;
  /** UPN or preferred username of a user; the application (client) id of an application. */
  name: string;
  /** Application (client) id the token was issued to (`azp`/`appid`). */
  applicationId?: string;
  tenantId?: string;
  /** App roles the token carries (`roles`). */
  roles: string[];
}

/** One line for comments, logs and cancel notes: the name and the object id. */
export function describeCaller(caller: VerifiedCaller): string {
  return caller.name === caller.objectId ? caller.objectId : `${caller.name} (${caller.objectId})`;
}
