/**
 * The streaming trigger's decisions per alert, against a fake Durable: open a settle window, forward
 * records to an open one, leave a settled one alone (unless MDE was unreachable or it failed), and
 * never let one alert's failure stop the batch. End to end: test/e2e/alertStreaming.test.ts.
 */
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { DurableAccess } from "../../../functions/durableAccess";
import { createAlertStreaming, settle } from "../../../functions/alertStreaming";
import { ALERT_RECORDS_EVENT, ALERT_SETTLE_ORCHESTRATOR } from "../../../shared/alerts/streamingSettle";
import { settleInstanceId } from "../../../shared/alerts/streamingSettleId";
import { jsonLogger } from "../../../shared/log";
import { MDE_ALERT, MDE_ALERT_MACHINE } from "../../support/fixtures/alerts/mdeAlert";
import { alertInfoRecord, machineEvidenceRecord, streamingMessage } from "../../support/fixtures/alerts/streamingRecords";
import { capturingContext } from "../../support/triggerFakes";

type Status = Pick<DurableOrchestrationStatus, "runtimeStatus" | "output">;

function fakeDurable(
  statuses: Record<string, Status | undefined> = {},
  options: { startFails?: (id: string) => void; findFails?: boolean } = {},
) {
  const started: { name: string; instanceId: string; input: unknown }[] = [];
  const raised: { instanceId: string; name: string; data: unknown }[] = [];
  const client = {
    async startNew(name: string, o: { instanceId: string; input: unknown }) {
      options.startFails?.(o.instanceId);
      started.push({ name, instanceId: o.instanceId, input: o.input });
      statuses[o.instanceId] = { runtimeStatus: "Pending", output: null } as Status;
      return o.instanceId;
    },
    async raiseEvent(instanceId: string, name: string, data: unknown) {
      raised.push({ instanceId, name, data });
    },
  };
  const access: DurableAccess = {
    client: client as unknown as DurableClient,
    async findStatus(instanceId) {
      if (options.findFails) throw new Error("Durable unavailable");
      const s = statuses[instanceId];
      return s ? ({ instanceId, ...s } as DurableOrchestrationStatus) : undefined;
    },
    async *inFlight() {},
  };
  return { access, started, raised, statuses };
}

const alert = { alertId: MDE_ALERT.id, devices: [MDE_ALERT_MACHINE], product: "mde" as const, records: 2 };
const id = settleInstanceId(MDE_ALERT.id);
const log = () => {
  const { context, lines } = capturingContext("alertStreaming");
  return { log: jsonLogger(context), lines };
};

describe("settle: one window per alert", () => {
  it("opens a window with the settle seconds and the device hints", async () => {
    const d = fakeDurable();
    expect(await settle({ settleSeconds: 60 }, d.access, alert, log().log)).toBe("opened");
    expect(d.started).toEqual([
      {
        name: ALERT_SETTLE_ORCHESTRATOR,
        instanceId: id,
        input: { alertId: MDE_ALERT.id, settleSeconds: 60, devices: [MDE_ALERT_MACHINE], product: "mde" },
      },
    ]);
  });

  it.each(["Pending", "Running", "Suspended"])("forwards the records to a %s window instead of opening another", async (runtimeStatus) => {
    const d = fakeDurable({ [id]: { runtimeStatus, output: null } as Status });
    expect(await settle({ settleSeconds: 60 }, d.access, alert, log().log)).toBe("forwarded");
    expect(d.started).toEqual([]);
    expect(d.raised).toEqual([{ instanceId: id, name: ALERT_RECORDS_EVENT, data: { devices: [MDE_ALERT_MACHINE], product: "mde" } }]);
  });

  it("leaves a settled window alone, but opens it again after MDE was unreachable or the window failed", async () => {
    const collected = fakeDurable({
      [id]: { runtimeStatus: "Completed", output: { kind: "collecting", machineIds: [MDE_ALERT_MACHINE] } } as Status,
    });
    expect(await settle({ settleSeconds: 60 }, collected.access, alert, log().log)).toBe("settled");
    expect(collected.started).toEqual([]);
    const unreachable = fakeDurable({
      [id]: { runtimeStatus: "Completed", output: { kind: "dropped", reason: "SourceUnavailable" } } as Status,
    });
    expect(await settle({ settleSeconds: 60 }, unreachable.access, alert, log().log)).toBe("opened");
    const failed = fakeDurable({ [id]: { runtimeStatus: "Failed", output: "boom" } as Status });
    expect(await settle({ settleSeconds: 60 }, failed.access, alert, log().log)).toBe("opened");
  });

  it("forwards when another partition's batch opened the window between the check and the start", async () => {
    const d = fakeDurable(
      {},
      {
        startFails: (instanceId) => {
          d.statuses[instanceId] = { runtimeStatus: "Running", output: null } as Status;
          throw new Error("An instance with ID already exists");
        },
      },
    );
    expect(await settle({ settleSeconds: 60 }, d.access, alert, log().log)).toBe("forwarded");
    expect(d.raised).toHaveLength(1);
  });

  it("opens nothing for another product's alert", async () => {
    const d = fakeDurable();
    const { log: l, lines } = log();
    expect(
      await settle({ settleSeconds: 60 }, d.access, { ...alert, product: "other", otherProduct: "Microsoft Defender for Identity" }, l),
    ).toBe("notAnMdeAlert");
    expect(d.started).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ message: "alert event dropped", reason: "NotAnMdeAlert" })]);
  });
});

describe("alertStreaming: a batch never fails", () => {
  it("logs a Durable failure per alert and resolves", async () => {
    const d = fakeDurable({}, { findFails: true });
    const { context, lines } = capturingContext("alertStreaming");
    const handler = createAlertStreaming({ settleSeconds: 60, durable: () => d.access });
    await expect(
      handler([streamingMessage(alertInfoRecord(), machineEvidenceRecord(), alertInfoRecord({ AlertId: "da2_2" }))], context),
    ).resolves.toBeUndefined();
    expect(lines.filter((l) => l.message === "alert settle window failed to open").map((l) => l.alertId)).toEqual([MDE_ALERT.id, "da2_2"]);
  });

  it("asks Durable nothing for a batch without alerts", async () => {
    const d = fakeDurable({}, { findFails: true });
    const { context, lines } = capturingContext("alertStreaming");
    await createAlertStreaming({ settleSeconds: 60, durable: () => d.access })(["garbage", { records: [] }], context);
    expect(lines.map((l) => l.message)).toEqual(["alert stream record dropped", "alert stream batch read"]);
  });
});
