import { createFindLiveResponse } from "../../../activities/findLiveResponse";
import type { SubmitInput } from "../../../shared/contract";
import { MdeApiError } from "../../../shared/errors";
import { capturingContext, commandStates, context, fakeMde, machineAction } from "../../support/fakes";

const input: SubmitInput = {
  machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
  commands: [
    {
      type: "RunScript",
      params: [
        { key: "ScriptName", value: "collect.ps1" },
        { key: "Args", value: "-Full" },
      ],
    },
    { type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\test.txt" }] },
  ],
  comment: "Investigate [collector:abc]",
  correlationMarker: "[collector:abc]",
  notBefore: "2026-01-01T00:00:00.000Z",
};
/** An action this orchestration created: its marker ends the comment, same device, same commands. */
const ours = (over: Parameters<typeof machineAction>[0] = {}) =>
  machineAction({ requestorComment: input.comment, commands: commandStates(input.commands), ...over });
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
  it("finds the action whose comment ends with this orchestration's marker, looking only at this machine's live responses since notBefore", async () => {
    const mine = ours({ id: "mine" });
    const mde = listing(ours({ id: "other", requestorComment: "Investigate [collector:xyz]" }), mine);
    expect(await createFindLiveResponse({ mde })(input, context())).toEqual({ kind: "found", action: mine });
    expect(mde.listMachineActions).toHaveBeenCalledWith({
      filter:
        "machineId eq 'f70f9fe6b29cd9511652434919c6530618f06606' and type eq 'LiveResponse' and creationDateTimeUtc ge 2026-01-01T00:00:00.000Z",
      top: 100,
    });
  });

  it("finds its action whatever the order MDE lists its commands in, and whatever the machine id's case", async () => {
    const mine = ours({ machineId: input.machineId.toUpperCase(), commands: commandStates(input.commands).reverse() });
    expect(await createFindLiveResponse({ mde: listing(mine) })(input, context())).toEqual({ kind: "found", action: mine });
  });

  it.each([
    ["no action at all", []],
    ["only other collections' actions", [ours({ requestorComment: "Investigate [collector:xyz]" })]],
    ["an action without a comment", [ours({ requestorComment: null })]],
  ])("returns notFound when MDE lists %s", async (_what, actions) => {
    expect(await createFindLiveResponse({ mde: listing(...actions) })(input, context())).toEqual({ kind: "notFound" });
  });

  describe("never adopts someone else's action", () => {
    it.each([
      ["the marker inside a caller's comment", { requestorComment: "see [collector:abc] for details" }],
      ["the marker not preceded by a space", { requestorComment: "x[collector:abc]" }],
      ["the marker alone", { requestorComment: "[collector:abc]" }],
      ["the marker followed by more text", { requestorComment: "Investigate [collector:abc] " }],
      ["another device", { machineId: "0000000000000000000000000000000000000000" }],
      ["fewer commands", { commands: commandStates(input.commands.slice(0, 1)) }],
      [
        "an extra command",
        { commands: commandStates([...input.commands, { type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] }]) },
      ],
      ["another command type", { commands: commandStates([{ ...input.commands[0]!, type: "PutFile" }, input.commands[1]!]) }],
      [
        "another param value",
        { commands: commandStates([input.commands[0]!, { type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\other.txt" }] }]) },
      ],
      [
        "params in another order",
        { commands: commandStates([{ type: "RunScript", params: [...input.commands[0]!.params].reverse() }, input.commands[1]!]) },
      ],
      [
        "a missing param",
        { commands: commandStates([{ type: "RunScript", params: [input.commands[0]!.params[0]!] }, input.commands[1]!]) },
      ],
      ["commands in another order", { commands: commandStates([...input.commands].reverse()) }],
    ])("an action with %s is not ours", async (_what, over) => {
      const { context: ctx, lines } = capturingContext();
      expect(await createFindLiveResponse({ mde: listing(ours({ id: "theirs", ...over })) })(input, ctx)).toEqual({ kind: "notFound" });
      if ("machineId" in over || "commands" in over) {
        expect(lines).toContainEqual(
          expect.objectContaining({
            level: "warn",
            message: "an action carries this collection's marker but is not its request; not adopted",
            actionId: "theirs",
          }),
        );
      }
    });

    it("passes over a look-alike to find its own action listed after it", async () => {
      const mine = ours({ id: "mine" });
      const mde = listing(ours({ id: "theirs", commands: [] }), mine);
      expect(await createFindLiveResponse({ mde })(input, context())).toEqual({ kind: "found", action: mine });
    });
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
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "ResourceNotFound"],
  ])(
    "returns rejected for a %i %s with MDE's code and correlation id, so the collection ends at once instead of being retried for an hour",
    async (statusCode, code) => {
      expect(await createFindLiveResponse({ mde: listFailing(apiError(statusCode, code)) })(input, context())).toEqual({
        kind: "rejected",
        statusCode,
        code,
        message: `${code} happened`,
        target: "t-1",
      });
    },
  );

  it.each([
    ["a 500", apiError(500, "InternalServerError"), "MDE InternalServerError (HTTP 500): InternalServerError happened; correlation id t-1"],
    ["a network failure (no status)", apiError(undefined, "NetworkError"), "MDE NetworkError: NetworkError happened; correlation id t-1"],
    ["an error that is not MDE's", new TypeError("fetch failed"), "TypeError: fetch failed"],
  ])("throws on %s rather than report notFound, which would let a lost action keep the device busy", async (_what, error, message) => {
    await expect(createFindLiveResponse({ mde: listFailing(error) })(input, context())).rejects.toThrow(message);
  });
});
