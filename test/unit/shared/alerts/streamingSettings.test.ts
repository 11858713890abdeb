import { loadConfig } from "../../../../shared/config";
import { ConfigError } from "../../../../shared/errors";
import { ENTRA_TEST_SETTINGS } from "../../../support/settings";

const minimal = { EVIDENCE_STORAGE_ACCOUNT_URL: "https://contosoevidence.blob.core.windows.net", ...ENTRA_TEST_SETTINGS };
const hub = {
  ALERTS_EVENTHUB__fullyQualifiedNamespace: "contoso-alerts.servicebus.windows.net",
  ALERTS_EVENTHUB_NAME: "defender-streaming",
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.setting);
  }
  throw new Error("expected a ConfigError");
}

describe("ALERTS_EVENTHUB* and ALERTS_SETTLE_SECONDS", () => {
  it("leaves the streaming route off without a hub, with a 60-second settle window", () => {
    expect(loadConfig(minimal).alertStreaming).toEqual({ settleSeconds: 60 });
  });

  it("turns it on with the namespace and the hub, the consumer group defaulting to $Default", () => {
    expect(loadConfig({ ...minimal, ...hub, ALERTS_SETTLE_SECONDS: "0" }).alertStreaming).toEqual({
      eventHub: {
        connection: "ALERTS_EVENTHUB",
        fullyQualifiedNamespace: "contoso-alerts.servicebus.windows.net",
        eventHubName: "defender-streaming",
        consumerGroup: "$Default",
      },
      settleSeconds: 0,
    });
    const withIdentity = {
      ...minimal,
      ...hub,
      ALERTS_EVENTHUB_CONSUMER_GROUP: "collector",
      ALERTS_EVENTHUB__credential: "managedidentity",
      ALERTS_EVENTHUB__clientId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    };
    expect(loadConfig(withIdentity).alertStreaming.eventHub?.consumerGroup).toBe("collector");
  });

  it("names every bad setting", () => {
    expect(problemsOf({ ...minimal, ALERTS_EVENTHUB_NAME: "defender-streaming" })).toEqual(["ALERTS_EVENTHUB__fullyQualifiedNamespace"]);
    expect(problemsOf({ ...minimal, ALERTS_EVENTHUB__fullyQualifiedNamespace: "contoso-alerts.servicebus.windows.net" })).toEqual([
      "ALERTS_EVENTHUB_NAME",
    ]);
    expect(
      problemsOf({ ...minimal, ...hub, ALERTS_EVENTHUB__fullyQualifiedNamespace: "sb://contoso-alerts.servicebus.windows.net/" }),
    ).toEqual(["ALERTS_EVENTHUB__fullyQualifiedNamespace"]);
    expect(problemsOf({ ...minimal, ...hub, ALERTS_EVENTHUB__credential: "connectionstring" })).toEqual(["ALERTS_EVENTHUB__credential"]);
    expect(problemsOf({ ...minimal, ...hub, ALERTS_EVENTHUB__clientId: "me" })).toEqual(["ALERTS_EVENTHUB__clientId"]);
    expect(problemsOf({ ...minimal, ...hub, ALERTS_EVENTHUB_CONSUMER_GROUP: "bad group" })).toEqual(["ALERTS_EVENTHUB_CONSUMER_GROUP"]);
    for (const bad of ["-1", "901", "1.5", "soon"])
      expect(problemsOf({ ...minimal, ALERTS_SETTLE_SECONDS: bad })).toEqual(["ALERTS_SETTLE_SECONDS"]);
  });
});
