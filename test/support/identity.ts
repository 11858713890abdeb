import { createDevelopmentIdentity, type DevelopmentIdentity, type TokenRequest } from "../../devhost";

/**
 * One development identity per test file: tests mint their own tokens, and the app under test
 * validates them on the same path as Entra tokens (AUTH_MODE=development, the public key only).
 */
let identity: Promise<DevelopmentIdentity> | undefined;

export function testIdentity(): Promise<DevelopmentIdentity> {
  return (identity ??= createDevelopmentIdentity());
}

/** The app settings that make the app accept this file's tokens. */
export async function developmentAuthSettings(): Promise<Record<string, string>> {
  return { AUTH_MODE: "development", AUTH_DEVELOPMENT_JWKS: (await testIdentity()).jwks };
}

/** An `Authorization` header value; all three roles unless the request says otherwise. */
export async function bearer(request?: TokenRequest): Promise<string> {
  return `Bearer ${await (await testIdentity()).mint(request)}`;
}
