/** Submission tokens: no 60-second window holds more than N submissions; the rest get reservations, served in arrival order. */
import type { GovernorDocument } from "../../../../shared/governor/governorDocument";
import { MINUTE, SECOND, storedDocument, T0, testGovernor } from "./governorFixture";

// With the default margin (0.5 s either side) and grace (5 s): a batch granted at T0 leaves the window at T0 + 61 s,
// and a batch reserved at X leaves it at X + 66 s.
const FIRST_RESERVATION = 61 * SECOND;
const SECOND_RESERVATION = FIRST_RESERVATION + 66 * SECOND;

/** More slots than holders, so only the submission window decides. */
const roomy = () => testGovernor({ settings: { maxSessions: 50 } });

async function askAll(governor: ReturnType<typeof roomy>["governor"], holders: string[], now: number) {
  const answers = [];
  for (const h of holders) answers.push(await governor.acquireSubmission(h, now));
  return answers;
}

const holders = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `h${from + i}`);

describe("submission tokens", () => {
  it("grants N submissions at once, then reserves the earliest instant the window has room, batch after batch", async () => {
    const { governor } = roomy();
    const answers = await askAll(governor, holders(1, 25), T0);
    expect(answers.slice(0, 10).every((a) => a.kind === "granted")).toBe(true);
    expect(answers.slice(10, 20)).toEqual(Array(10).fill({ kind: "wait", waitMs: FIRST_RESERVATION, reason: "submissionWindow" }));
    expect(answers.slice(20)).toEqual(Array(5).fill({ kind: "wait", waitMs: SECOND_RESERVATION, reason: "submissionWindow" }));
  });

  it("honours the N setting", async () => {
    const { governor } = testGovernor({ settings: { maxSessions: 50, submissionsPerMinute: 3 } });
    const answers = await askAll(governor, holders(1, 4), T0);
    expect(answers.map((a) => a.kind)).toEqual(["granted", "granted", "granted", "wait"]);
  });

  it("gives a holder that asks again before its instant the same reservation, never a second place", async () => {
    const { governor, store } = roomy();
    await askAll(governor, holders(1, 11), T0);
    const again = await governor.acquireSubmission("h11", T0 + 10 * SECOND);
    expect(again).toEqual({ kind: "wait", waitMs: FIRST_RESERVATION - 10 * SECOND, reason: "submissionWindow" });
    expect(storedDocument(store).reservations).toEqual([{ holder: "h11", at: T0 + FIRST_RESERVATION }]);
    // The next arrival is placed as if h11 held one place only.
    expect(await governor.acquireSubmission("h12", T0 + 10 * SECOND)).toMatchObject({ waitMs: FIRST_RESERVATION - 10 * SECOND });
  });

  it("lets a holder through on its reservation at its instant and until the end of its grace, without queueing again", async () => {
    const { governor, store } = roomy();
    await askAll(governor, holders(1, 25), T0);
    const at = T0 + FIRST_RESERVATION;
    expect(await governor.acquireSubmission("h11", at)).toMatchObject({ kind: "granted" });
    expect(await governor.acquireSubmission("h12", at + 5 * SECOND)).toMatchObject({ kind: "granted" });
    // Past the grace the reservation is gone (h14..h20's too, unclaimed): h13 is a new arrival, behind h21..h25.
    const late = at + 5 * SECOND + 1;
    expect(await governor.acquireSubmission("h13", late)).toEqual({
      kind: "wait",
      waitMs: T0 + SECOND_RESERVATION - late,
      reason: "submissionWindow",
    });
    expect(storedDocument(store).reservations.map((r) => r.holder)).toEqual(["h21", "h22", "h23", "h24", "h25", "h13"]);
  });

  it("frees the place of a reservation nobody claimed once its grace has passed", async () => {
    const run = async (lastClaims: boolean) => {
      const { governor } = roomy();
      await askAll(governor, holders(1, 20), T0);
      const at = T0 + FIRST_RESERVATION;
      for (const h of holders(11, 19)) expect(await governor.acquireSubmission(h, at)).toMatchObject({ kind: "granted" });
      if (lastClaims) expect(await governor.acquireSubmission("h20", at + 5 * SECOND)).toMatchObject({ kind: "granted" });
      return governor.acquireSubmission("h21", at + 9 * SECOND);
    };
    expect(await run(false)).toMatchObject({ kind: "granted" });
    expect(await run(true)).toMatchObject({ kind: "wait", reason: "submissionWindow" });
  });

  it("never lets a later arrival go before an earlier reservation, even when the window has room for it", async () => {
    const { governor } = roomy();
    await askAll(governor, holders(1, 11), T0);
    // At T0 + 61.5 s the window has room (h11 may only come at its instant), but h11 arrived first.
    const answer = await governor.acquireSubmission("h12", T0 + 30 * SECOND);
    expect(answer).toEqual({ kind: "wait", waitMs: FIRST_RESERVATION - 30 * SECOND, reason: "submissionWindow" });
  });

  it("counts a re-submission (after ActiveRequestAlreadyExists) as a call but not as a second session", async () => {
    const { governor, store } = testGovernor({ settings: { submissionsPerMinute: 2 } });
    expect(await governor.acquireSubmission("h1", T0)).toMatchObject({ kind: "granted" });
    expect(await governor.acquireSubmission("h1", T0 + SECOND)).toMatchObject({ kind: "granted" });
    expect(storedDocument(store).sessions.map((s) => s.holder)).toEqual(["h1"]);
    expect(await governor.acquireSubmission("h1", T0 + 2 * SECOND)).toMatchObject({ kind: "wait", reason: "submissionWindow" });
  });

  it("backs every submission off after a 429 and moves reservations inside the backoff after it, in order", async () => {
    const { governor, store } = roomy();
    await askAll(governor, holders(1, 12), T0);
    expect(await governor.reportThrottled("runLiveResponse", 2 * MINUTE, T0 + SECOND)).toEqual({
      kind: "backedOff",
      until: T0 + 121 * SECOND,
    });
    const doc: GovernorDocument = storedDocument(store);
    expect(doc.reservations).toEqual([
      { holder: "h11", at: T0 + 121 * SECOND },
      { holder: "h12", at: T0 + 121 * SECOND },
    ]);
    // h11 comes back at its old instant and is told the new one.
    expect(await governor.acquireSubmission("h11", T0 + FIRST_RESERVATION)).toEqual({
      kind: "wait",
      waitMs: 60 * SECOND,
      reason: "submissionWindow",
    });
    expect(await governor.acquireSubmission("h13", T0 + 2 * SECOND)).toEqual({ kind: "wait", waitMs: 119 * SECOND, reason: "backoff" });
    expect(await governor.acquireSubmission("h11", T0 + 121 * SECOND)).toMatchObject({ kind: "granted" });
  });

  it("uses MDE's fallback of one minute when a 429 names no Retry-After", async () => {
    const { governor } = roomy();
    expect(await governor.reportThrottled("runLiveResponse", undefined, T0)).toEqual({ kind: "backedOff", until: T0 + MINUTE });
  });
});
