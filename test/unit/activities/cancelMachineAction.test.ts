import { createCancelMachineAction } from "../../../activities/cancelMachineAction";
import { MdeApiError } from "../../../shared/errors";
import { context, fakeMde, machineAction } from "../../support/fakes";

describe("cancelMachineAction", () => {
  it("cancels, then re-reads the action so results that completed meanwhile are kept", async () => {
    const after = machineAction({ status: "Cancelled" });
    const mde = fakeMde({
      cancelMachineAction: jest.fn(async () => machineAction({ status: "Pending" })),
      getMachineAction: jest.fn(async () => after),
    });
    expect(await createCancelMachineAction({ mde })({ actionId: "a", comment: "deadline" }, context())).toEqual({
      kind: "cancelled",
      action: after,
    });
    expect(mde.cancelMachineAction).toHaveBeenCalledWith("a", "deadline");
  });

  it("treats a 400 (already final) as harmless and reports the action as it is", async () => {
    const final = machineAction({ status: "Succeeded" });
    const mde = fakeMde({
      cancelMachineAction: jest.fn(async () => {
        throw new MdeApiError({ statusCode: 400, code: "BadRequest", message: "final" });
      }),
      getMachineAction: jest.fn(async () => final),
    });
    expect(await createCancelMachineAction({ mde })({ actionId: "a", comment: "c" }, context())).toEqual({
      kind: "alreadyFinal",
      action: final,
    });
  });

  it("returns throttled on 429", async () => {
    const mde = fakeMde({
      cancelMachineAction: jest.fn(async () => {
        throw new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "m", retryAfterInMs: 1000 });
      }),
    });
    expect(await createCancelMachineAction({ mde })({ actionId: "a", comment: "c" }, context())).toEqual({
      kind: "throttled",
      retryAfterInMs: 1000,
    });
  });

  const refusal = (statusCode: number, code: string) => new MdeApiError({ statusCode, code, message: `${code} happened`, target: "t-1" });

  it.each([
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "ResourceNotFound"],
  ])("returns rejected with MDE's code and correlation id when the cancel answers %i %s", async (statusCode, code) => {
    const mde = fakeMde({
      cancelMachineAction: jest.fn(async () => {
        throw refusal(statusCode, code);
      }),
    });
    expect(await createCancelMachineAction({ mde })({ actionId: "a", comment: "c" }, context())).toEqual({
      kind: "rejected",
      statusCode,
      code,
      message: `${code} happened`,
      target: "t-1",
    });
    expect(mde.getMachineAction).not.toHaveBeenCalled();
  });

  it.each([
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "ResourceNotFound"],
  ])("returns rejected with MDE's code and correlation id when the re-read answers %i %s", async (statusCode, code) => {
    const mde = fakeMde({
      cancelMachineAction: jest.fn(async () => machineAction({ status: "Cancelled" })),
      getMachineAction: jest.fn(async () => {
        throw refusal(statusCode, code);
      }),
    });
    expect(await createCancelMachineAction({ mde })({ actionId: "a", comment: "c" }, context())).toEqual({
      kind: "rejected",
      statusCode,
      code,
      message: `${code} happened`,
      target: "t-1",
    });
  });

  it("rethrows a 500 as one line with MDE's code and correlation id, so the Durable runtime retries it", async () => {
    const mde = fakeMde({
      cancelMachineAction: jest.fn(async () => {
        throw new MdeApiError({ statusCode: 500, code: "InternalServerError", message: "boom", target: "t-5" });
      }),
    });
    await expect(createCancelMachineAction({ mde })({ actionId: "a", comment: "c" }, context())).rejects.toThrow(
      "MDE InternalServerError (HTTP 500): boom; correlation id t-5",
    );
  });
});
