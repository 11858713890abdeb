import type { SubmitInput } from "../../../shared/contract";
import { createSubmitLiveResponse } from "../../../activities/submitLiveResponse";
import { MdeApiError } from "../../../shared/errors";
import { commandStates, context, fakeMde, machineAction } from "../../support/fakes";

const input: SubmitInput = {
  machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
  commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\test.txt" }] }],
  comment: "Investigate [collector:abc]",
  correlationMarker: "[collector:abc]",
  notBefore: "2026-01-01T00:00:00.000Z",
};
const apiError = (statusCode: number, code: string, retryAfterInMs?: number) =>
  new MdeApiError({ statusCode, code, message: `${code} happened`, target: "t-1", retryAfterInMs });
/** An action this orchestration created: its marker ends the comment, same device, same commands. */
const ours = (over: Parameters<typeof machineAction>[0] = {}) =>
  machineAction({ requestorComment: input.comment, commands: commandStates(input.commands), ...over });

describe("submitLiveResponse", () => {
  it("submits when no earlier attempt created an action, looking only at this machine's recent live responses", async () => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => [machineAction({ requestorComment: "someone else's" })]),
      runLiveResponse: jest.fn(async () => machineAction()),
    });
    const r = await createSubmitLiveResponse({ mde })(input, context());
    expect(r).toMatchObject({ kind: "submitted", reused: false });
    expect(mde.listMachineActions).toHaveBeenCalledWith({
      filter:
        "machineId eq 'f70f9fe6b29cd9511652434919c6530618f06606' and type eq 'LiveResponse' and creationDateTimeUtc ge 2026-01-01T00:00:00.000Z",
      top: 100,
    });
    expect(mde.runLiveResponse).toHaveBeenCalledWith(input.machineId, { commands: input.commands, comment: input.comment });
  });

  it("reuses the action an earlier attempt created instead of starting a second session", async () => {
    const mine = ours({ id: "mine" });
    const mde = fakeMde({ listMachineActions: jest.fn(async () => [ours({ id: "other", requestorComment: "x" }), mine]) });
    const r = await createSubmitLiveResponse({ mde })(input, context());
    expect(r).toEqual({ kind: "submitted", action: mine, reused: true });
    expect(mde.runLiveResponse).not.toHaveBeenCalled();
  });

  it.each([
    ["carries the marker inside a caller's comment", { requestorComment: "Investigate [collector:abc] later" }],
    ["is on another device", { machineId: "0000000000000000000000000000000000000000" }],
    ["runs other commands", { commands: commandStates([{ type: "GetFile", params: [{ key: "Path", value: "C:\\secrets.txt" }] }]) }],
  ])("submits its own action rather than adopt one that %s", async (_what, over) => {
    const theirs = ours({ id: "theirs", ...over });
    const submitted = ours({ id: "submitted" });
    const mde = fakeMde({ listMachineActions: jest.fn(async () => [theirs]), runLiveResponse: jest.fn(async () => submitted) });
    expect(await createSubmitLiveResponse({ mde })(input, context())).toEqual({ kind: "submitted", action: submitted, reused: false });
    expect(mde.runLiveResponse).toHaveBeenCalledTimes(1);
  });

  it.each([
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "ResourceNotFound"],
  ])("returns rejected without submitting when the lookup of earlier attempts answers %i %s", async (status, code) => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => {
        throw apiError(status, code);
      }),
    });
    expect(await createSubmitLiveResponse({ mde })(input, context())).toEqual({
      kind: "rejected",
      statusCode: status,
      code,
      message: `${code} happened`,
      target: "t-1",
    });
    expect(mde.runLiveResponse).not.toHaveBeenCalled();
  });

  it("hands MDE's refusal on as one bounded line without server paths", async () => {
    const message = `Forbidden\n   at Object.check (/home/site/wwwroot/dist/shared/mde/client.js:12:7)\n${"x".repeat(2000)}`;
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => []),
      runLiveResponse: jest.fn(async () => {
        throw new MdeApiError({
          statusCode: 403,
          code: "DisallowedOperation",
          message: `No automation level.\r\n${message}`,
          target: "t-9",
        });
      }),
    });
    const r = await createSubmitLiveResponse({ mde })(input, context());
    expect(r).toEqual({
      kind: "rejected",
      statusCode: 403,
      code: "DisallowedOperation",
      message: "No automation level. Forbidden",
      target: "t-9",
    });
  });

  it("still submits when the API refuses the lookup filter", async () => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => {
        throw apiError(400, "InvalidInput");
      }),
      runLiveResponse: jest.fn(async () => machineAction()),
    });
    expect((await createSubmitLiveResponse({ mde })(input, context())).kind).toBe("submitted");
  });

  it("returns deviceBusy when MDE answers 400 ActiveRequestAlreadyExists", async () => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => []),
      runLiveResponse: jest.fn(async () => {
        throw apiError(400, "ActiveRequestAlreadyExists");
      }),
    });
    expect(await createSubmitLiveResponse({ mde })(input, context())).toEqual({
      kind: "deviceBusy",
      message: "ActiveRequestAlreadyExists happened",
    });
  });

  it("returns throttled with MDE's Retry-After on 429, from the lookup or the submission", async () => {
    const lookupThrottled = fakeMde({
      listMachineActions: jest.fn(async () => {
        throw apiError(429, "TooManyRequests", 7000);
      }),
    });
    expect(await createSubmitLiveResponse({ mde: lookupThrottled })(input, context())).toEqual({ kind: "throttled", retryAfterInMs: 7000 });
    const submitThrottled = fakeMde({
      listMachineActions: jest.fn(async () => []),
      runLiveResponse: jest.fn(async () => {
        throw apiError(429, "TooManyRequests", 30_000);
      }),
    });
    expect(await createSubmitLiveResponse({ mde: submitThrottled })(input, context())).toEqual({
      kind: "throttled",
      retryAfterInMs: 30_000,
    });
  });

  it.each([
    [400, "InvalidRequestBody"],
    [401, "Unauthorized"],
    [403, "DisallowedOperation"],
    [404, "ResourceNotFound"],
  ])("returns rejected for %i %s, keeping MDE's correlation id", async (status, code) => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => []),
      runLiveResponse: jest.fn(async () => {
        throw apiError(status, code);
      }),
    });
    expect(await createSubmitLiveResponse({ mde })(input, context())).toEqual({
      kind: "rejected",
      statusCode: status,
      code,
      message: `${code} happened`,
      target: "t-1",
    });
  });

  it("throws on 5xx so the durable retry runs, and the retry finds the action if the 500 came after acceptance", async () => {
    const accepted = ours({ id: "accepted-then-500" });
    const created: (typeof accepted)[] = [];
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => created),
      runLiveResponse: jest.fn(async () => {
        created.push(accepted); // MDE accepted the request, then the answer was lost
        throw apiError(500, "InternalServerError");
      }),
    });
    const submit = createSubmitLiveResponse({ mde });
    await expect(submit(input, context())).rejects.toThrow(
      "MDE InternalServerError (HTTP 500): InternalServerError happened; correlation id t-1",
    );
    expect(await submit(input, context())).toEqual({ kind: "submitted", action: accepted, reused: true });
    expect(mde.runLiveResponse).toHaveBeenCalledTimes(1);
  });
});

describe("submitLiveResponse: the library check before the POST", () => {
  const REVIEWED = "a".repeat(64);
  const CHANGED = "b".repeat(64);
  const withScript: SubmitInput = {
    ...input,
    commands: [{ type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] }, ...input.commands],
    libraryFiles: [{ fileName: "triage.ps1", sha256: REVIEWED, source: "library" }],
  };
  /** An entry of GET /api/libraryfiles (https://learn.microsoft.com/defender-endpoint/api/list-library-files). */
  const listed = (sha256: string) => [
    {
      fileName: "triage.ps1",
      sha256,
      description: null,
      creationTime: null,
      lastUpdatedTime: null,
      createdBy: "admin",
      hasParameters: false,
      parametersDescription: null,
    },
  ];
  const now = () => new Date("2026-03-02T09:00:00Z");

  it("lists the library once and submits when the script is the reviewed one, returning the check", async () => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => []),
      listLibraryFiles: jest.fn(async () => listed(REVIEWED)),
      runLiveResponse: jest.fn(async () => machineAction()),
    });
    const r = await createSubmitLiveResponse({ mde, now })(withScript, context());
    expect(mde.listLibraryFiles).toHaveBeenCalledTimes(1);
    expect(mde.runLiveResponse).toHaveBeenCalledTimes(1);
    expect(r).toMatchObject({
      kind: "submitted",
      libraryFiles: [
        { fileName: "triage.ps1", expectedSha256: REVIEWED, observedSha256: REVIEWED, verdict: "match", checkedAt: now().toISOString() },
      ],
    });
  });

  it("refuses a script changed out of band without submitting, with the code, both hashes and no status code", async () => {
    const mde = fakeMde({ listMachineActions: jest.fn(async () => []), listLibraryFiles: jest.fn(async () => listed(CHANGED)) });
    const r = await createSubmitLiveResponse({ mde, now })(withScript, context());
    expect(mde.runLiveResponse).not.toHaveBeenCalled();
    expect(r).toMatchObject({
      kind: "rejected",
      code: "LibraryFileChanged",
      libraryFiles: [{ verdict: "changed", observedSha256: CHANGED }],
    });
    expect(r).not.toHaveProperty("statusCode");
    expect((r as { message: string }).message).toContain(`expected SHA-256 ${REVIEWED}`);
  });

  it("refuses an unreviewed script unless LIBRARY_ALLOW_UNREVIEWED, which records the observed hash", async () => {
    const unreviewed = { ...withScript, libraryFiles: [] };
    const mde = () =>
      fakeMde({
        listMachineActions: jest.fn(async () => []),
        listLibraryFiles: jest.fn(async () => listed(CHANGED)),
        runLiveResponse: jest.fn(async () => machineAction()),
      });
    const refusing = mde();
    expect(await createSubmitLiveResponse({ mde: refusing, now })(unreviewed, context())).toMatchObject({
      kind: "rejected",
      code: "LibraryFileUnreviewed",
    });
    expect(refusing.runLiveResponse).not.toHaveBeenCalled();
    const allowing = mde();
    expect(await createSubmitLiveResponse({ mde: allowing, now, library: { allowUnreviewed: true } })(unreviewed, context())).toMatchObject(
      {
        kind: "submitted",
        libraryFiles: [{ verdict: "unreviewedAllowed", expectedSha256: null, observedSha256: CHANGED }],
      },
    );
  });

  it("falls back on the deployed library/ for a collection started before its input carried reviewed hashes", async () => {
    const { libraryFiles: _none, ...old } = withScript;
    const mde = fakeMde({ listMachineActions: jest.fn(async () => []), listLibraryFiles: jest.fn(async () => listed(CHANGED)) });
    const r = await createSubmitLiveResponse({ mde, now, deployedLibrary: () => new Map([["triage.ps1", REVIEWED]]) })(old, context());
    expect(r).toMatchObject({ kind: "rejected", code: "LibraryFileChanged" });
  });

  it("waits when the library listing is throttled, and ends the collection when MDE refuses it (no Library.Manage)", async () => {
    const throttled = fakeMde({
      listMachineActions: jest.fn(async () => []),
      listLibraryFiles: jest.fn(async () => Promise.reject(apiError(429, "TooManyRequests", 30_000))),
    });
    expect(await createSubmitLiveResponse({ mde: throttled, now })(withScript, context())).toEqual({
      kind: "throttled",
      retryAfterInMs: 30_000,
    });
    const forbidden = fakeMde({
      listMachineActions: jest.fn(async () => []),
      listLibraryFiles: jest.fn(async () => Promise.reject(apiError(403, "Forbidden"))),
    });
    const r = await createSubmitLiveResponse({ mde: forbidden, now })(withScript, context());
    expect(r).toMatchObject({ kind: "rejected", statusCode: 403, code: "Forbidden", libraryFiles: [{ verdict: "notChecked" }] });
    expect((r as { message: string }).message).toContain("Library.Manage");
    expect(throttled.runLiveResponse).not.toHaveBeenCalled();
    expect(forbidden.runLiveResponse).not.toHaveBeenCalled();
  });

  it("rethrows a transient listing failure for the runtime to retry, never submitting unchecked", async () => {
    const mde = fakeMde({
      listMachineActions: jest.fn(async () => []),
      listLibraryFiles: jest.fn(async () => Promise.reject(apiError(503, "ServiceUnavailable"))),
    });
    await expect(createSubmitLiveResponse({ mde, now })(withScript, context())).rejects.toThrow();
    expect(mde.runLiveResponse).not.toHaveBeenCalled();
  });

  it("does not list the library for a request without RunScript or PutFile", async () => {
    const mde = fakeMde({ listMachineActions: jest.fn(async () => []), runLiveResponse: jest.fn(async () => machineAction()) });
    const r = await createSubmitLiveResponse({ mde, now })(input, context());
    expect(r).toEqual({ kind: "submitted", action: machineAction(), reused: false });
    expect(mde.listLibraryFiles).not.toHaveBeenCalled();
  });
});
