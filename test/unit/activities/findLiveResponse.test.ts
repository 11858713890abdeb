import { createFindLiveResponse } from "../../../activities/findLiveResponse";
import type { SubmitInput } from "../../../shared/contract";
import { MdeApiError } from "../../../shared/errors";
import { capturingContext, context, fakeMde, machineAction } from "../../support/fakes";

const input: SubmitInput = {
  machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
  commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\test.txt" }] }],
  comment: "Investigate [collector:abc]",
  correlationMarker: "[collector:abc]",
  notBefore: "2026-01-01T00:00:00.000Z",
};
const apiError = (statusCode: number | undefined, code: string, retryAfterInMs?: number) =>
  new MdeApiError({ statusCode, code, message: `${code} happened`, target: "t-1", retryAfterInMs });
const listing = (...actions: ReturnType<typeof machineAction>[]) => fakeMde({ listMachineActions: jest.fn(async () => actions) });
const listFailing = (error: unknown) =>
  fakeMde({
    listMachineActions: jest.fn(async () => {
      throw error;
    }),
  });

describe("findLiveResponse", () => {
  it("finds the action whose comment carries this orchestration's marker, looking only at this machine's live responses since notBefore", async () => {
    const mine = machineAction({ id: "mine", requestorComment: "Investigate [collector:abc]" });
    const mde = listing(machineAction({ id: "other", requestorComment: "Investigate [collector:xyz]" }), mine);
    expect(await createFindLiveResponse({ mde })(input, context())).toEqual({ kind: "found", action: mine });
    expect(mde.listMachineActions).toHaveBeenCalledWith({
      filter:
        "machineId eq 'f70f9fe6b29cd9511652434919c6530618f06606' and type eq 'LiveResponse' and creationDateTimeUtc ge 2026-01-01T00:00:00.000Z",
      top: 100,
    });
  });

  it.each([
    ["no action at all", []],
    ["only other collections' actions", [machineAction({ requestorComment: "Investigate [collector:xyz]" })]],
    ["an action without a comment", [machineAction({ requestorComment: null })]],
  ])("returns notFound when MDE lists %s", async (_what, actions) => {
    expect(await createFindLiveResponse({ mde: listing(...actions) })(input, context())).toEqual({ kind: "notFound" });
  });

  it.each([
    ["with MDE's Retry-After", 3000],
    ["without a Retry-After", undefined],
  ])("returns throttled on 429 %s", async (_what, retryAfterInMs) => {
    const find = createFindLiveResponse({ mde: listFailing(apiError(429, "TooManyRequests", retryAfterInMs)) });
    expect(await find(input, context())).toStrictEqual({ kind: "throttled", retryAfterInMs });
  });

  it("returns notFound, with a warning, when MDE refuses the lookup filter (400): it cannot tell about earlier attempts", async () => {
    const { context: ctx, lines } = capturingContext();
    expect(await createFindLiveResponse({ mde: listFailing(apiError(400, "InvalidInput")) })(input, ctx)).toEqual({ kind: "notFound" });
    expect(lines).toEqual([
      { level: "warn", message: "could not look up earlier submissions", machineId: input.machineId, code: "InvalidInput", target: "t-1" },
    ]);
  });

  it.each([
    ["a 401", apiError(401, "Unauthorized")],
    ["a 403", apiError(403, "Forbidden")],
    ["a 500", apiError(500, "InternalServerError")],
    ["a network failure (no status)", apiError(undefined, "NetworkError")],
    ["an error that is not MDE's", new TypeError("fetch failed")],
  ])("rethrows %s rather than report notFound, which would let a lost action keep the device busy", async (_what, error) => {
    await expect(createFindLiveResponse({ mde: listFailing(error) })(input, context())).rejects.toBe(error);
  });
});
