import { createGetMachineAction } from "../../../activities/getMachineAction";
import { MdeApiError } from "../../../shared/errors";
import { fakeMde, machineAction } from "../../support/fakes";

const ACTION_ID = "2e9da30d-27f6-4208-81f2-9cd3d67893ba";
const apiError = (statusCode: number | undefined, code: string, retryAfterInMs?: number) =>
  new MdeApiError({ statusCode, code, message: `${code} happened`, target: "t-1", retryAfterInMs });
const failingWith = (error: unknown) =>
  fakeMde({
    getMachineAction: jest.fn(async () => {
      throw error;
    }),
  });

describe("getMachineAction", () => {
  it("reads the action once and returns it as MDE sent it", async () => {
    const action = machineAction({ status: "InProgress" });
    const mde = fakeMde({ getMachineAction: jest.fn(async () => action) });
    expect(await createGetMachineAction({ mde })({ actionId: ACTION_ID })).toEqual({ kind: "action", action });
    expect(mde.getMachineAction).toHaveBeenCalledTimes(1);
    expect(mde.getMachineAction).toHaveBeenCalledWith(ACTION_ID);
  });

  it.each([
    ["with MDE's Retry-After", 12_000],
    ["without a Retry-After", undefined],
  ])("returns throttled on 429 %s, so the orchestrator waits on a durable timer", async (_what, retryAfterInMs) => {
    const get = createGetMachineAction({ mde: failingWith(apiError(429, "TooManyRequests", retryAfterInMs)) });
    expect(await get({ actionId: ACTION_ID })).toStrictEqual({ kind: "throttled", retryAfterInMs });
  });

  it.each([
    [400, "InvalidInput"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "ResourceNotFound"],
    [409, "Conflict"],
  ])("returns rejected for %i %s, keeping MDE's correlation id", async (statusCode, code) => {
    const get = createGetMachineAction({ mde: failingWith(apiError(statusCode, code)) });
    expect(await get({ actionId: ACTION_ID })).toEqual({ kind: "rejected", statusCode, code, message: `${code} happened`, target: "t-1" });
  });

  it.each([
    ["a 500", apiError(500, "InternalServerError")],
    ["a 503", apiError(503, "ServiceUnavailable", 5000)],
    ["a network failure (no status)", apiError(undefined, "NetworkError")],
    ["an error that is not MDE's", new TypeError("fetch failed")],
  ])("rethrows %s so the Durable runtime retries the activity", async (_what, error) => {
    await expect(createGetMachineAction({ mde: failingWith(error) })({ actionId: ACTION_ID })).rejects.toBe(error);
  });
});
