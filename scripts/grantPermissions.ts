/**
 * `npm run grant-permissions -- --principal-id <object id>`: grants the collector's managed identity its
 * MDE API application roles, and with --include-alerts-polling Microsoft Graph's SecurityAlert.Read.All,
 * through Microsoft Graph (scripts/mdePermissions.ts). Signs in with
 * DefaultAzureCredential, so `az login` or `azd auth login` as an administrator is enough.
 */
import { DefaultAzureCredential } from "@azure/identity";
import { runGrantPermissions } from "./mdePermissions";

runGrantPermissions(process.argv.slice(2), {
  credential: (options) => new DefaultAzureCredential({ tenantId: options.tenantId, authorityHost: options.authorityHost }),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`grant-permissions failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
