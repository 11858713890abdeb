// azd postdeploy hook (azure.yaml). An Event Grid subscription that delivers to an Azure Function is
// validated against the function when it is created, and `azd up` provisions before it deploys: the
// first run therefore provisions without the subscription, and this hook, once the code is deployed,
// turns ALERT_SUBSCRIPTION_ENABLED on and provisions again. Later runs find it on and do nothing.
// Plain Node with built-ins only: hooks run on the user's machine before anything else is installed.
import { spawnSync } from "node:child_process";

const env = process.env;

function azd(args) {
  const r = spawnSync("azd", args, { stdio: "inherit", shell: process.platform === "win32" });
  return r.status === 0;
}

if (/^true$/i.test(env.ALERT_SUBSCRIPTION_ENABLED ?? "")) {
  console.log("Event Grid subscription to alertCollection: already provisioned.");
} else {
  console.log("alertCollection is deployed: provisioning the Event Grid subscription to it (azd provision).");
  if (!azd(["env", "set", "ALERT_SUBSCRIPTION_ENABLED", "true"]) || !azd(["provision", "--no-prompt"])) {
    azd(["env", "set", "ALERT_SUBSCRIPTION_ENABLED", "false"]);
    console.error(
      "Provisioning the Event Grid subscription failed. Fix the error above, then run: azd env set ALERT_SUBSCRIPTION_ENABLED true && azd provision",
    );
    process.exit(1);
  }
}

const principalId = env.COLLECTOR_IDENTITY_PRINCIPAL_ID;
if (principalId) {
  console.log(
    [
      "",
      "Next: grant the collector's managed identity its MDE API permissions (needs an Entra admin:",
      "AppRoleAssignment.ReadWrite.All and Application.Read.All). Safe to run again:",
      `  npm run grant-permissions -- --principal-id ${principalId}`,
      // alertsPoll is a template parameter azd does not see (no environment value, no output): the hint
      // names the flag rather than guessing whether this deployment polls Graph.
      "If this deployment polls Graph alerts_v2 (alertsPoll.schedule in infra/main.bicep), add",
      "--include-alerts-polling: it also grants Microsoft Graph's SecurityAlert.Read.All.",
    ].join("\n"),
  );
}
