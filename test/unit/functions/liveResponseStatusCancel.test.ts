import { HttpRequest, InvocationContext } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import type { DurableAccess } from "../../../functions/durableAccess";
import { createLiveResponseCancel } from "../../../functions/liveResponseCancel";
import { createLiveResponseStatus } from "../../../functions/liveResponseStatus";

const ctx = () => new InvocationContext({ functionName: "test", logHandler: () => {} });
const request = (method: string, instanceId: string, body?: unknown) =>
  new HttpRequest({
    method,
    url: `http://localhost/api/liveresponse/${instanceId}`,
    params: { instanceId },
    ...(body ? { body: { string: JSON.stringify(body) } } : {}),
  });

/** One known instance; every other id is missing. */
function durableWith(known: { instanceId: string; runtimeStatus: string; customStatus?: unknown }) {
  const raised: unknown[] = [];
  const access: DurableAccess = {
    client: { raiseEvent: async (...args: unknown[]) => void raised.push(args) } as unknown as DurableAccess["client"],
    findStatus: async (id) => (id === known.instanceId ? (known as unknown as DurableOrchestrationStatus) : undefined),
  };
  return { access, raised };
}

describe("liveResponseStatus and liveResponseCancel take the durable access from their deps", () => {
  const running = { instanceId: "lr-1", runtimeStatus: "Running", customStatus: { phase: "polling" } } as const;

  it("status: 404 for a missing instance, the custom status for a known one", async () => {
    const status = createLiveResponseStatus({ durable: () => durableWith(running).access });
    expect(await status(request("GET", "lr-2"), ctx())).toMatchObject({ status: 404, jsonBody: { error: { code: "CollectionNotFound" } } });
    expect(await status(request("GET", "lr-1"), ctx())).toMatchObject({
      status: 200,
      jsonBody: { instanceId: "lr-1", runtimeStatus: "Running", phase: "polling" },
    });
  });

  it("cancel: 404 for a missing instance, 409 for a finished one, 202 with the event raised for a running one", async () => {
    const now = () => new Date("2026-03-02T10:00:00Z");
    const live = durableWith(running);
    const cancel = createLiveResponseCancel({ now, durable: () => live.access });
    expect(await cancel(request("POST", "lr-2", {}), ctx())).toMatchObject({ status: 404 });
    expect(await cancel(request("POST", "lr-1", { reason: "wrong host" }), ctx())).toMatchObject({ status: 202 });
    expect(live.raised).toEqual([
      ["lr-1", "CancelCollection", { requestedBy: "anonymous API caller", reason: "wrong host", requestedAt: "2026-03-02T10:00:00.000Z" }],
    ]);
    const finished = createLiveResponseCancel({
      now,
      durable: () => durableWith({ instanceId: "lr-1", runtimeStatus: "Completed" }).access,
    });
    expect(await finished(request("POST", "lr-1", {}), ctx())).toMatchObject({
      status: 409,
      jsonBody: { error: { code: "CollectionFinished" } },
    });
  });
});
