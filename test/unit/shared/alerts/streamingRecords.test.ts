import { mergeProduct, productVerdict, readStreamBatch, MAX_LISTED_PROBLEMS } from "../../../../shared/alerts/streamingRecords";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../../../support/fixtures/alerts/mdeAlert";
import {
  alertInfoRecord,
  deviceEventsRecord,
  fileEvidenceRecord,
  machineEvidenceRecord,
  streamingMessage,
} from "../../../support/fixtures/alerts/streamingRecords";

const OTHER_MACHINE = "f70f9fe6b29cd9511652434919c6530618f06606";

describe("readStreamBatch: the Defender XDR streaming API's Event Hubs messages", () => {
  it("groups AlertInfo and AlertEvidence records by alert id across messages, whatever form the worker delivers them in", () => {
    const batch = readStreamBatch([
      JSON.stringify(streamingMessage(fileEvidenceRecord(), deviceEventsRecord())),
      Buffer.from(JSON.stringify(streamingMessage(machineEvidenceRecord({ DeviceId: OTHER_MACHINE.toUpperCase() })))),
      streamingMessage(alertInfoRecord()),
    ]);
    expect(batch).toMatchObject({ messages: 3, records: 4, recordsNotRead: 0, problemCount: 0, problems: [] });
    expect(batch.otherCategories).toEqual({ "AdvancedHunting-DeviceEvents": 1 });
    expect(batch.alerts).toEqual([{ alertId: MDE_ALERT.id, devices: [MDE_ALERT_MACHINE, OTHER_MACHINE], product: "mde", records: 3 }]);
  });

  it("reads a single message (cardinality one) as a batch of one, and ids without regard to case", () => {
    const batch = readStreamBatch(streamingMessage(alertInfoRecord(), alertInfoRecord({ AlertId: MDE_ALERT.id.toUpperCase() })));
    expect(batch.alerts).toEqual([{ alertId: MDE_ALERT.id, devices: [], product: "mde", records: 2 }]);
  });

  it("names each bad message and record with its reason and indexes, and still reads the good ones", () => {
    const batch = readStreamBatch([
      "not json {",
      { notRecords: [] },
      "[1,2]",
      streamingMessage(
        42,
        { category: "AdvancedHunting-AlertInfo" },
        { properties: { AlertId: "da1_1" } },
        alertInfoRecord({ AlertId: undefined }),
        fileEvidenceRecord({ AlertId: "bad id with spaces" }),
        deviceEventsRecord(),
        fileEvidenceRecord(),
      ),
    ]);
    expect(batch.problems).toEqual([
      { reason: "MalformedMessage", detail: "the message is not JSON", message: 0 },
      { reason: "MalformedMessage", detail: "the message has no records array", message: 1 },
      { reason: "MalformedMessage", detail: "the message is not a JSON object", message: 2 },
      { reason: "MalformedRecord", detail: "the record is not a JSON object", message: 3, record: 0 },
      { reason: "MalformedRecord", detail: "the AlertInfo record has no properties", message: 3, record: 1 },
      { reason: "MalformedRecord", detail: "the record has no category", message: 3, record: 2 },
      { reason: "NoAlertId", detail: "the AlertInfo record carries no usable AlertId", message: 3, record: 3 },
      { reason: "NoAlertId", detail: "the AlertEvidence record carries no usable AlertId", message: 3, record: 4 },
    ]);
    expect(batch.problemCount).toBe(8);
    expect(batch.alerts).toEqual([{ alertId: MDE_ALERT.id, devices: [MDE_ALERT_MACHINE], product: "mde", records: 1 }]);
    expect(batch.otherCategories).toEqual({ "AdvancedHunting-DeviceEvents": 1 });
  });

  it("keeps device hints to MDE machine ids, never an AlertInfo's", () => {
    const batch = readStreamBatch([
      streamingMessage(
        machineEvidenceRecord({ DeviceId: "../../etc/passwd" }),
        alertInfoRecord({ DeviceId: OTHER_MACHINE }),
        fileEvidenceRecord({ DeviceId: null }),
      ),
    ]);
    expect(batch.alerts[0]!.devices).toEqual([]);
  });

  it("says another product only when no record says Defender for Endpoint", () => {
    const office = { ServiceSource: "Microsoft Defender for Office 365" };
    const otherOnly = readStreamBatch([streamingMessage(alertInfoRecord({ AlertId: "fa1_1", ...office }))]);
    expect(otherOnly.alerts).toEqual([
      { alertId: "fa1_1", devices: [], product: "other", otherProduct: "Microsoft Defender for Office 365", records: 1 },
    ]);
    const mixed = readStreamBatch([streamingMessage(alertInfoRecord(office), machineEvidenceRecord())]);
    expect(mixed.alerts[0]).toEqual({ alertId: MDE_ALERT.id, devices: [MDE_ALERT_MACHINE], product: "mde", records: 2 });
    const unknown = readStreamBatch([streamingMessage(alertInfoRecord({ ServiceSource: "Microsoft Defender XDR" }))]);
    expect(unknown.alerts[0]).toEqual({ alertId: MDE_ALERT.id, devices: [], records: 1 });
  });

  it("bounds records, alerts, device hints, listed problems and counted categories", () => {
    const alerts = Array.from({ length: 5 }, (_, i) => alertInfoRecord({ AlertId: `da${i}_1` }));
    const bounded = readStreamBatch([streamingMessage(...alerts, ...alerts)], { maxRecords: 8, maxAlerts: 3, maxDevicesPerAlert: 1 });
    expect(bounded.records).toBe(8);
    expect(bounded.recordsNotRead).toBe(2);
    expect(bounded.alerts.map((a) => a.alertId)).toEqual(["da0_1", "da1_1", "da2_1"]);
    expect(bounded.alertsOverLimit).toEqual({ count: 2, first: ["da3_1", "da4_1"] });

    const devices = readStreamBatch([streamingMessage(machineEvidenceRecord(), machineEvidenceRecord({ DeviceId: OTHER_MACHINE }))], {
      maxRecords: 10,
      maxAlerts: 10,
      maxDevicesPerAlert: 1,
    });
    expect(devices.alerts[0]!.devices).toEqual([MDE_ALERT_MACHINE]);

    const noisy = readStreamBatch([
      streamingMessage(...Array.from({ length: 30 }, () => 7)),
      streamingMessage(...Array.from({ length: 30 }, (_, i) => ({ category: `AdvancedHunting-T${i}`, properties: {} }))),
    ]);
    expect(noisy.problems).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(noisy.problemCount).toBe(30);
    expect(Object.keys(noisy.otherCategories)).toHaveLength(21);
    expect(noisy.otherCategories["(other)"]).toBe(10);
  });
});

describe("productVerdict and mergeProduct", () => {
  it.each([
    ["Microsoft Defender for Endpoint", "mde"],
    ["microsoftDefenderForEndpoint", "mde"],
    ["Microsoft Defender ATP", "mde"],
    ["Microsoft Defender for Identity", "other"],
    ["Microsoft Defender for Cloud Apps", "other"],
    ["Microsoft Data Loss Prevention", "other"],
    ["Microsoft Defender XDR", undefined],
    ["", undefined],
  ])("%s is %s", (name, verdict) => {
    expect(productVerdict(name)).toBe(verdict);
  });

  it("lets Defender for Endpoint's word win", () => {
    expect(mergeProduct("other", "mde")).toBe("mde");
    expect(mergeProduct("mde", "other")).toBe("mde");
    expect(mergeProduct(undefined, "other")).toBe("other");
    expect(mergeProduct(undefined, undefined)).toBeUndefined();
  });
});
