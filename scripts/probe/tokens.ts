/**
 * The bearer tokens the probe sends: good ones from this machine's development identity (the one
 * `npm start` trusts with AUTH_MODE=development, as `npm run token` mints), one per role, and bad
 * ones an attacker could make: another key, no signature, the wrong algorithm, audience or tenant,
 * expired.
 */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { createDevelopmentIdentity, type DevelopmentIdentity } from "../../devhost";

export interface ProbeTokens {
  /** Collector.Run, Collector.Read and Collector.Cancel. */
  all: string;
  run: string;
  read: string;
  cancel: string;
  /** Valid signature, no roles. */
  noRoles: string;
  /** Signed by a key the host never saw, with every role. */
  otherKey: string;
  /** `alg: none`, no signature. */
  unsigned: string;
  /** HS256 with the public key set as the secret (algorithm confusion). */
  hmacWithPublicKey: string;
  wrongAudience: string;
  wrongTenant: string;
  expired: string;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Mints every probe token from `identity` (the host's) and a throwaway one. */
export async function mintProbeTokens(identity: DevelopmentIdentity): Promise<ProbeTokens> {
  const name = "probe@localhost";
  const stranger = await createDevelopmentIdentity();
  const all = await identity.mint({ name });
  const [, payload] = all.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as Record<string, unknown>;
  return {
    all,
    run: await identity.mint({ name, roles: ["Collector.Run"] }),
    read: await identity.mint({ name, roles: ["Collector.Read"] }),
    cancel: await identity.mint({ name, roles: ["Collector.Cancel"] }),
    noRoles: await identity.mint({ name, roles: [] }),
    otherKey: await stranger.mint({ name }),
    unsigned: `${b64url({ alg: "none", typ: "JWT" })}.${payload}.`,
    hmacWithPublicKey: await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(identity.jwks)),
    wrongAudience: await identity.mint({ name, audience: "api://some-other-app" }),
    wrongTenant: await identity.mint({ name, tenantId: "11111111-2222-3333-4444-555555555555" }),
    expired: await identity.mint({ name, expiresInSeconds: -600 }),
  };
}

/** 40 random hex characters: a machine id no tenant has, so a collection started by mistake reaches no device. */
export function unknownMachineId(): string {
  return randomBytes(20).toString("hex");
}
