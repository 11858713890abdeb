/** MDE_MAX_SESSIONS, MDE_SUBMISSIONS_PER_MINUTE, MDE_READS_PER_*, MDE_SESSION_LEASE_MINUTES, GOVERNOR_*. */
import type { SettingProblem } from "../../../../shared/errors";
import { governorLimits } from "../../../../shared/governor/governorLimits";
import { readGovernorSettings } from "../../../../shared/governor/governorSettings";
import { settingsReader, type Env } from "../../../../shared/settingsReader";

const context = { pollMaxDelayInMs: 900_000 };

function read(env: Env) {
  const problems: SettingProblem[] = [];
  const settings = readGovernorSettings(settingsReader(env, problems), problems, context);
  return { settings, problems: problems.map((p) => p.setting) };
}

describe("governor settings", () => {
  it("defaults to MDE's documented limits (25 sessions, the lower revision) with 10% headroom on reads", () => {
    const { settings, problems } = read({});
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      enabled: true,
      maxSessions: 25,
      submissionsPerMinute: 10,
      readsPerMinute: 100,
      readsPerHour: 1500,
      sessionLeaseMs: 20 * 60_000,
      headroomPercent: 10,
    });
    expect(governorLimits(settings)).toMatchObject({ readsPerMinute: 90, readsPerHour: 1350, maxSessions: 25, submissionsPerMinute: 10 });
  });

  it("reads every setting", () => {
    const { settings, problems } = read({
      MDE_MAX_SESSIONS: "50",
      MDE_SUBMISSIONS_PER_MINUTE: "8",
      MDE_READS_PER_MINUTE: "60",
      MDE_READS_PER_HOUR: "1000",
      MDE_SESSION_LEASE_MINUTES: "30",
      GOVERNOR_HEADROOM_PERCENT: "0",
      GOVERNOR_ENABLED: "false",
    });
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      enabled: false,
      maxSessions: 50,
      submissionsPerMinute: 8,
      readsPerMinute: 60,
      readsPerHour: 1000,
      sessionLeaseMs: 30 * 60_000,
      headroomPercent: 0,
    });
  });

  it("names each bad setting", () => {
    expect(read({ MDE_MAX_SESSIONS: "30" }).problems).toEqual(["MDE_MAX_SESSIONS"]);
    expect(read({ MDE_SUBMISSIONS_PER_MINUTE: "0" }).problems).toEqual(["MDE_SUBMISSIONS_PER_MINUTE"]);
    expect(read({ MDE_READS_PER_MINUTE: "200", MDE_READS_PER_HOUR: "150" }).problems).toEqual(["MDE_READS_PER_HOUR"]);
    expect(read({ GOVERNOR_HEADROOM_PERCENT: "95" }).problems).toEqual(["GOVERNOR_HEADROOM_PERCENT"]);
    expect(read({ GOVERNOR_HEADROOM_PERCENT: "-1" }).problems).toEqual(["GOVERNOR_HEADROOM_PERCENT"]);
    expect(read({ GOVERNOR_ENABLED: "sometimes" }).problems).toEqual(["GOVERNOR_ENABLED"]);
  });

  it("refuses a lease no longer than the slowest poll", () => {
    expect(read({ MDE_SESSION_LEASE_MINUTES: "15" }).problems).toEqual(["MDE_SESSION_LEASE_MINUTES"]);
    expect(read({ MDE_SESSION_LEASE_MINUTES: "16" }).problems).toEqual([]);
  });
});
