/**
 * Submit first: a submission record written before each POST lets a normal submission skip the lookup
 * of earlier attempts (a list machine actions call), while a dispatch that may have reached MDE (crash,
 * lost answer, 5xx) is still looked up so it is adopted, never submitted twice.
 */
import { createSubmitLiveResponse } from "../../../activities/submitLiveResponse";
import type { SubmissionRead, SubmissionRecords, SubmissionState } from "../../../activities/submissionRecords";
import type { GovernorPort } from "../../../activities/governed";
import type { SubmitInput } from "../../../shared/contract";
import { MdeApiError } from "../../../shared/errors";
import { Governor } from "../../../shared/governor/governor";
import { governorLimits } from "../../../shared/governor/governorLimits";
import { MemoryGovernorStore } from "../../../shared/governor/governorStore";
import { DEFAULT_SETTINGS } from "../shared/governor/governorFixture";
import { commandStates, context, fakeMde, machineAction } from "../../support/fakes";

const input: SubmitInput = {
  machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
  commands: [{ type: "GetFile", params: [{ key: "Path", value: "C:\\temp\\test.txt" }] }],
  comment: "Investigate [collector:abc]",
  correlationMarker: "[collector:abc]",
  notBefore: "2026-01-01T00:00:00.000Z",
};
const ours = (id: string) => machineAction({ id, requestorComment: input.comment, commands: commandStates(input.commands) });
const now = () => new Date("2026-01-01T00:10:00Z");

/** Records in memory, with the blob store's conditions. */
class MemoryRecords implements SubmissionRecords {
  readonly states = new Map<string, { state: SubmissionState; version: number }>();
  async read(id: string): Promise<SubmissionRead> {
    const r = this.states.get(id);
    return r ? { state: r.state, etag: String(r.version) } : { state: "none" };
  }
  async markInFlight(id: string, read: SubmissionRead): Promise<boolean> {
    const r = this.states.get(id);
    if ((read.state === "none" && r) || (read.state !== "none" && String(r?.version) !== read.etag)) return false;
    this.states.set(id, { state: "inFlight", version: (r?.version ?? 0) + 1 });
    return true;
  }
  async markResolved(id: string): Promise<void> {
    this.states.set(id, { state: "resolved", version: (this.states.get(id)?.version ?? 0) + 1 });
  }
}

describe("submitLiveResponse, submit first", () => {
  it("makes no list call on a normal submission, and records the answer", async () => {
    const records = new MemoryRecords();
    const mde = fakeMde({ runLiveResponse: jest.fn(async () => ours("a1")) });
    expect(await createSubmitLiveResponse({ mde, records, now })(input, context())).toMatchObject({ kind: "submitted", reused: false });
    expect(mde.listMachineActions).not.toHaveBeenCalled();
    expect(records.states.get("abc")?.state).toBe("resolved");
  });

  it("adopts the action of a dispatch that died after MDE created it, never submitting a second", async () => {
    const records = new MemoryRecords();
    const created: string[] = [];
    // MDE creates the action, then the answer is lost (the host died, a 500 after commit).
    const mde = fakeMde({
      runLiveResponse: jest.fn(async () => {
        created.push("a1");
        throw new MdeApiError({ statusCode: 500, code: "InternalServerError", message: "lost answer" });
      }),
      listMachineActions: jest.fn(async () => created.map(ours)),
    });
    const submit = createSubmitLiveResponse({ mde, records, now });
    await expect(submit(input, context())).rejects.toThrow();
    expect(records.states.get("abc")?.state).toBe("inFlight");
    expect(await submit(input, context())).toMatchObject({ kind: "submitted", reused: true, action: { id: "a1" } });
    expect(mde.runLiveResponse).toHaveBeenCalledTimes(1);
    expect(created).toEqual(["a1"]);
  });

  it("skips the lookup after a definitive answer: a 429 left nothing in MDE", async () => {
    const records = new MemoryRecords();
    const mde = fakeMde({
      runLiveResponse: jest
        .fn()
        .mockRejectedValueOnce(new MdeApiError({ statusCode: 429, code: "TooManyRequests", message: "slow down", retryAfterInMs: 5000 }))
        .mockResolvedValueOnce(ours("a2")),
    });
    const submit = createSubmitLiveResponse({ mde, records, now });
    expect(await submit(input, context())).toEqual({ kind: "throttled", retryAfterInMs: 5000 });
    expect(await submit(input, context())).toMatchObject({ kind: "submitted", reused: false, action: { id: "a2" } });
    expect(mde.listMachineActions).not.toHaveBeenCalled();
  });

  it("looks up on ActiveRequestAlreadyExists: the session on the device may be its own", async () => {
    const busy = () => new MdeApiError({ statusCode: 400, code: "ActiveRequestAlreadyExists", message: "busy" });
    const mine = fakeMde({ runLiveResponse: jest.fn().mockRejectedValue(busy()), listMachineActions: jest.fn(async () => [ours("a3")]) });
    expect(await createSubmitLiveResponse({ mde: mine, records: new MemoryRecords(), now })(input, context())).toMatchObject({
      kind: "submitted",
      reused: true,
      action: { id: "a3" },
    });
    const theirs = fakeMde({ runLiveResponse: jest.fn().mockRejectedValue(busy()), listMachineActions: jest.fn(async () => []) });
    expect(await createSubmitLiveResponse({ mde: theirs, records: new MemoryRecords(), now })(input, context())).toMatchObject({
      kind: "deviceBusy",
    });
  });

  it("asks the governor right before the POST: a wait is answered as MDE's 429 and nothing is posted or marked", async () => {
    const store = new MemoryGovernorStore();
    const governor = new Governor(store, governorLimits({ ...DEFAULT_SETTINGS, submissionsPerMinute: 1 }));
    await governor.acquireSubmission("someone-else", now().getTime());
    const records = new MemoryRecords();
    const mde = fakeMde({ runLiveResponse: jest.fn(async () => ours("a4")) });
    const answer = await createSubmitLiveResponse({ mde, records, now, governor })(input, context());
    expect(answer).toMatchObject({ kind: "throttled" });
    expect(answer.kind === "throttled" && answer.retryAfterInMs).toBeGreaterThan(50_000);
    expect(mde.runLiveResponse).not.toHaveBeenCalled();
    expect(records.states.has("abc")).toBe(false);
  });

  it("fails closed when the governor cannot decide, and gives the slot back on a refusal", async () => {
    const refusing: GovernorPort = {
      acquireSubmission: jest.fn(async () => ({
        kind: "refused" as const,
        code: "GovernorUnavailable" as const,
        message: "down",
        retryAfterMs: 42_000,
      })),
      acquireRead: jest.fn(),
      releaseSession: jest.fn(async () => ({ kind: "released" as const, held: true })),
      renewSession: jest.fn(),
      reportThrottled: jest.fn(),
      observeSessions: jest.fn(),
    };
    const mde = fakeMde({ runLiveResponse: jest.fn(async () => ours("a5")) });
    expect(await createSubmitLiveResponse({ mde, records: new MemoryRecords(), now, governor: refusing })(input, context())).toEqual({
      kind: "throttled",
      retryAfterInMs: 42_000,
    });
    expect(mde.runLiveResponse).not.toHaveBeenCalled();

    const granting: GovernorPort = { ...refusing, acquireSubmission: jest.fn(async () => ({ kind: "granted" as const })) };
    const refusedByMde = fakeMde({
      runLiveResponse: jest.fn().mockRejectedValue(new MdeApiError({ statusCode: 403, code: "Forbidden", message: "no" })),
    });
    expect(
      await createSubmitLiveResponse({ mde: refusedByMde, records: new MemoryRecords(), now, governor: granting })(input, context()),
    ).toMatchObject({ kind: "rejected", statusCode: 403 });
    expect(granting.releaseSession).toHaveBeenCalledWith("abc", now().getTime());
  });
});
