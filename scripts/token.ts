/**
 * `npm run token`: prints a bearer token of this machine's development identity, for calling
 * `npm start` with AUTH_MODE=development (curl -H "Authorization: Bearer $(npm run -s token)").
 * Options: --roles Collector.Run,Collector.Read (default: all three), --name someone@contoso.test,
 * --application (a client-credentials token), --minutes 60.
 * In Azure, callers get real Entra tokens instead (README, "Calling the API from a SOAR").
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_ROLES, loadOrCreateDevelopmentIdentity } from "../devhost";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { roles: { type: "string" }, name: { type: "string" }, application: { type: "boolean" }, minutes: { type: "string" } },
  });
  const minutes = Number(values.minutes ?? 60);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw new Error("--minutes must be a whole number from 1 to 1440");
  const roles =
    values.roles === undefined
      ? [...DEFAULT_ROLES]
      : values.roles
          .split(",")
          .map((r) => r.trim())
          .filter(Boolean);
  // dist-tools/scripts/token.js -> the package root, where npm start keeps the identity.
  const identity = await loadOrCreateDevelopmentIdentity(path.resolve(__dirname, "..", ".."));
  const token = await identity.mint({
    roles,
    name: values.name,
    kind: values.application ? "application" : "user",
    expiresInSeconds: minutes * 60,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((e: unknown) => {
  console.error(`token: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
