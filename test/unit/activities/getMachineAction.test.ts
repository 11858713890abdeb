import { createGetMachineAction } from "../../../activities/getMachineAction";
import { MdeApiError } from "../../../shared/errors";
import { capturingContext, context, fakeMde, machineAction } from "../../support/fakes";

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
    expect(await createGetMachineAction({ mde })({ actionId: ACTION_ID }, context())).toEqual({ kind: "action", action });
    expect(mde.getMachineAction).toHaveBeenCalledTimes(1);
    expect(mde.getMachineAction).toHaveBeenCalledWith(ACTION_ID);
  });

  it.each([
    ["with MDE's Retry-After", 12_000],
    ["without a Retry-After", undefined],
  ])("returns throttled on 429 %s, so the orchestrator waits on a durable timer", async (_what, retryAfterInMs) => {
    const get = createGetMachineAction({ mde: failingWith(apiError(429, "TooManyRequests", retryAfterInMs)) });
    expect(await get({ actionId: ACTION_ID }, context())).toStrictEqual({ kind: "throttled", retryAfterInMs });
  });

  it.each([
    [400, "InvalidInput"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "ResourceNotFound"],
    [409, "Conflict"],
  ])("returns rejected for %i %s, keeping MDE's correlation id", async (statusCode, code) => {
    const get = createGetMachineAction({ mde: failingWith(apiError(statusCode, code)) });
    expect(await get({ actionId: ACTION_ID }, context())).toEqual({
      kind: "rejected",
      statusCode,
      code,
      message: `${code} happened`,
      target: "t-1",
    });
  });

  it.each([
    ["a 500", apiError(500, "InternalServerError"), "MDE InternalServerError (HTTP 500): InternalServerError happened; correlation id t-1"],
    [
      "a 503",
      apiError(503, "ServiceUnavailable", 5000),
      "MDE ServiceUnavailable (HTTP 503): ServiceUnavailable happened; correlation id t-1",
    ],
    ["a network failure (no status)", apiError(undefined, "NetworkError"), "MDE NetworkError: NetworkError happened; correlation id t-1"],
    ["an error that is not MDE's", new TypeError("fetch failed"), "TypeError: fetch failed"],
  ])(
    "rethrows %s so the Durable runtime retries the activity, as one line with MDE's code and correlation id",
    async (_what, error, message) => {
      const thrown = await createGetMachineAction({ mde: failingWith(error) })({ actionId: ACTION_ID }, context()).catch((e: Error) => e);
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toBe(message);
      // The stack crosses to the orchestrator in the failure's details: it names no file of the server.
      expect((thrown as Error).stack).toBe(`Error: ${message}`);
    },
  );

  it("logs the fault it rethrows, with MDE's code, status and correlation id", async () => {
    const { context: ctx, lines } = capturingContext();
    await expect(
      createGetMachineAction({ mde: failingWith(apiError(500, "InternalServerError")) })({ actionId: ACTION_ID }, ctx),
    ).rejects.toThrow();
    expect(lines).toEqual([
      {
        level: "warn",
        message: "activity failed; the Durable runtime retries it",
        code: "InternalServerError",
        status: 500,
        target: "t-1",
        failure: "MDE InternalServerError (HTTP 500): InternalServerError happened; correlation id t-1",
      },
    ]);
  });

  it("turns a multi-line MDE message with a stack and server paths into one line", async () => {
    const error = new MdeApiError({
      statusCode: 401,
      code: "Unauthorized",
      message:
        "Token expired.\n    at MdeClient.send (/home/site/wwwroot/dist/shared/mde/client.js:201:13)\n    at async getMachineAction (C:\\home\\site\\wwwroot\\dist\\activities\\getMachineAction.js:9:28)",
      target: "corr-401",
    });
    expect(await createGetMachineAction({ mde: failingWith(error) })({ actionId: ACTION_ID }, context())).toEqual({
      kind: "rejected",
      statusCode: 401,
      code: "Unauthorized",
      message: "Token expired.",
      target: "corr-401",
    });
  });
});
