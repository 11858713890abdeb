/**
 * The ALERTS_EVENTHUB* and ALERTS_SETTLE_SECONDS settings: where the Defender XDR streaming API's
 * Event Hub is, and how long an alert's records settle before MDE is asked for the alert.
 *
 * The Event Hubs trigger connects with an identity-based connection named `ALERTS_EVENTHUB`: the
 * Functions host reads `ALERTS_EVENTHUB__fullyQualifiedNamespace`, `__credential` and `__clientId`
 * itself (https://learn.microsoft.com/azure/azure-functions/functions-reference#configure-an-identity-based-connection).
 * They are read here too, so a bad value names itself at startup and the trigger is registered only
 * when the hub is configured. There is no connection-string form: no key is ever an app setting.
 */
import type { SettingProblem } from "../errors";
import { GUID, type SettingsReader } from "../settingsReader";
import { MAX_SETTLE_SECONDS } from "./streamingSettle";

/** The prefix of the trigger's identity-based connection settings. */
export const ALERTS_EVENTHUB_CONNECTION = "ALERTS_EVENTHUB";

export interface AlertStreamingSettings {
  /** Set when ALERTS_EVENTHUB__fullyQualifiedNamespace and ALERTS_EVENTHUB_NAME are: the trigger is registered. */
  eventHub?: {
    /** The connection setting prefix the trigger binding names. */
    connection: string;
    fullyQualifiedNamespace: string;
    eventHubName: string;
    /** @default "$Default" */
    consumerGroup: string;
  };
  /** Seconds an alert's records settle before MDE is asked for it (0..900). @default 60 */
  settleSeconds: number;
}

/** `<namespace>.servicebus.windows.net` and the sovereign clouds' suffixes: a host name, no scheme or port. */
const NAMESPACE_HOST = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9](\.[A-Za-z0-9-]+)+$/;
/** Event hub names: letters, digits, '.', '_', '-', starting and ending with a letter or digit, at most 256. */
const EVENT_HUB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/;
/** Consumer group names: at most 50 characters; `$Default` is the hub's own. */
const CONSUMER_GROUP = /^(\$Default|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?)$/;

export function readAlertStreamingSettings(reader: SettingsReader, problems: SettingProblem[]): AlertStreamingSettings {
  const namespace = reader.optional("ALERTS_EVENTHUB__fullyQualifiedNamespace");
  const eventHubName = reader.optional("ALERTS_EVENTHUB_NAME");
  const consumerGroup = reader.optional("ALERTS_EVENTHUB_CONSUMER_GROUP") ?? "$Default";
  const credential = reader.optional("ALERTS_EVENTHUB__credential");
  const clientId = reader.optional("ALERTS_EVENTHUB__clientId");
  const settleSeconds = readSettleSeconds(reader.optional("ALERTS_SETTLE_SECONDS"), problems);

  if (namespace !== undefined && !NAMESPACE_HOST.test(namespace))
    problems.push({
      setting: "ALERTS_EVENTHUB__fullyQualifiedNamespace",
      problem: "must be the namespace's host name, e.g. contoso-alerts.servicebus.windows.net (no scheme, no port)",
    });
  if (eventHubName !== undefined && !EVENT_HUB_NAME.test(eventHubName))
    problems.push({ setting: "ALERTS_EVENTHUB_NAME", problem: "must be an event hub name (letters, digits, '.', '_', '-')" });
  if (!CONSUMER_GROUP.test(consumerGroup))
    problems.push({
      setting: "ALERTS_EVENTHUB_CONSUMER_GROUP",
      problem: "must be $Default or a consumer group name (at most 50 characters)",
    });
  if (credential !== undefined && credential.toLowerCase() !== "managedidentity")
    problems.push({ setting: "ALERTS_EVENTHUB__credential", problem: "must be managedidentity (or unset)" });
  if (clientId !== undefined && !GUID.test(clientId)) problems.push({ setting: "ALERTS_EVENTHUB__clientId", problem: "must be a GUID" });
  if ((namespace === undefined) !== (eventHubName === undefined)) {
    const missing = namespace === undefined ? "ALERTS_EVENTHUB__fullyQualifiedNamespace" : "ALERTS_EVENTHUB_NAME";
    problems.push({ setting: missing, problem: "required when the other ALERTS_EVENTHUB setting is set: the streaming route needs both" });
  }
  if (namespace === undefined || eventHubName === undefined) return { settleSeconds };
  return {
    eventHub: { connection: ALERTS_EVENTHUB_CONNECTION, fullyQualifiedNamespace: namespace, eventHubName, consumerGroup },
    settleSeconds,
  };
}

function readSettleSeconds(value: string | undefined, problems: SettingProblem[]): number {
  if (value === undefined) return 60;
  const n = Number(value);
  if (Number.isInteger(n) && n >= 0 && n <= MAX_SETTLE_SECONDS) return n;
  problems.push({ setting: "ALERTS_SETTLE_SECONDS", problem: `must be a whole number of seconds from 0 to ${MAX_SETTLE_SECONDS}` });
  return 60;
}
