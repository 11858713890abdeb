import { Roles } from "../shared/auth/roles";

/** Roles a development token carries unless asked otherwise: everything the API checks (POST /api/alerts included). */
export const DEFAULT_ROLES: readonly string[] = [Roles.run, Roles.read, Roles.cancel, Roles.alert];
