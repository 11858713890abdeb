import type { CollectionSummary } from "../../shared/contract";
import { DAY, HOUR, MINUTE, machine, startCollectorHarness, type CollectorHarness } from "../support/collectorHarness";
import type { MachineScenario } from "../../simulator";

/**
 * Fleet benchmark (prints figures; run with `npm run bench`, never part of `npm test`).
 *
 * BENCH_DEVICES devices (default 25; one size per jest run, since the app registers its functions once per
 * process: `npm run bench` runs 25, then 500), each with a RunScript and a GetFile,
 * started through the webhook at once on the virtual clock against the simulator (MDE's limits: 10 submissions a
 * minute, 25 sessions counting queued ones, 100/min and 1,500/h per read endpoint) and Azurite. The mix
 * (BENCH_MIX=allOnline for the first table): 40% online now, 30% online within 1-6 hours, 20% offline
 * two days, 10% never online (their session times out after MDE's 3-day queue window).
 *
 * Lower bound on the makespan from the limits alone (no scheduler can beat it): max(completable devices'
 * submissions / 10 per minute; the latest device's own path = online time + its commands; MDE's queue
 * window when a device never comes online; the shortest sessions' area / 25 sessions). With the mixed
 * fleet the queue window dominates (ratio about 1 whatever the scheduler); BENCH_MIX=allOnline measures the scheduling.
 */
const SIZES = [Number.parseInt(process.env.BENCH_DEVICES ?? "25", 10)];
const MIX = process.env.BENCH_MIX === "allOnline" ? "allOnline" : "mixed";
/** BENCH_GOVERNOR=off: the same fleet without the tenant-wide governor (GOVERNOR_ENABLED=false), for comparison. */
const BENCH_SETTINGS: Record<string, string> = process.env.BENCH_GOVERNOR === "off" ? { GOVERNOR_ENABLED: "false" } : {};
const COMMAND_MS = 5_000;
const QUEUE_WINDOW_MS = 3 * DAY;
const SESSIONS = 25;
const SUBMISSIONS_PER_MINUTE = 10;
const commands = [
  { type: "RunScript", params: [{ key: "ScriptName", value: "triage.ps1" }] },
  { type: "GetFile", params: [{ key: "Path", value: "C:\\Windows\\Temp\\triage.zip" }] },
];

/** Online delay of device `i` of `n` (null: never online). */
function onlineAfter(i: number, n: number): number | null {
  if (MIX === "allOnline") return 0;
  const f = i / n;
  if (f < 0.4) return 0;
  if (f < 0.7) return HOUR + ((i * 7919) % (5 * HOUR));
  if (f < 0.9) return 2 * DAY;
  return null;
}

function lowerBoundMs(devices: MachineScenario[]): number {
  // A device that never comes online ends at MDE's queue window whatever the scheduler does; it needs no
  // session for that (a collection that never gets a slot times out at the same deadline).
  const completable = devices.filter((d) => d.onlineAfterMs !== null);
  const perDevice = completable.map((d) => (d.onlineAfterMs ?? 0) + 2 * COMMAND_MS);
  const neverOnline = devices.length > completable.length ? QUEUE_WINDOW_MS : 0;
  // Every completable device needs one submission; an omniscient scheduler submits each as its device comes online.
  // The last of them can go out (ceil(n / 10) - 1) minutes in, then runs its commands.
  const submissions = (Math.ceil(completable.length / SUBMISSIONS_PER_MINUTE) - 1) * MINUTE + 2 * COMMAND_MS;
  const sessionArea = (completable.length * 2 * COMMAND_MS) / SESSIONS;
  return Math.max(submissions, ...perDevice, neverOnline, sessionArea);
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const minutes = (ms: number) => `${(ms / MINUTE).toFixed(1)} min`;

async function runFleet(n: number): Promise<string[]> {
  const devices = Array.from({ length: n }, (_, i) => machine({ onlineAfterMs: onlineAfter(i, n), commandDurationMs: COMMAND_MS }));
  const lone = machine({ onlineAfterMs: 0, commandDurationMs: COMMAND_MS });
  const h: CollectorHarness = await startCollectorHarness({
    machines: [lone, ...devices],
    settings: { COLLECTIONS_MAX_IN_FLIGHT: String(n), COLLECTIONS_MAX_IN_FLIGHT_PER_CALLER: String(n), ...BENCH_SETTINGS },
  });
  try {
    // A lone collection first, in the same process (the app registers its functions once per process): the yardstick
    // for the fleet's calls per device. Its calls, 429s and episodes are taken off the fleet's below.
    const loneStart = await h.start({ machineId: lone.machineId, commands });
    await h.finish((loneStart.jsonBody as { id: string }).id);
    const loneSim = structuredClone(h.simulator.stats());
    const loneEngine = h.engine.stats();
    const loneCalls = Object.fromEntries(Object.entries(loneSim.calls).filter(([, v]) => v > 0));
    const loneTotal = Object.values(loneSim.calls).reduce((a, b) => a + b, 0);

    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    const startedAt = h.clock.now().getTime();
    const ids: string[] = [];
    for (const d of devices) {
      const res = await h.start({ machineId: d.machineId, commands });
      if (res.status !== 202) throw new Error(`start answered ${res.status}: ${JSON.stringify(res.jsonBody)}`);
      ids.push((res.jsonBody as { id: string }).id);
    }
    await h.engine.runUntilIdle({ maxVirtualTimeMs: 12 * DAY });
    const cpu = process.cpuUsage(cpuStart);
    const wallMs = performance.now() - wallStart;

    const statuses = ids.map((id) => h.engine.getStatus(id));
    const summaries = statuses.map((st) => st?.output as CollectionSummary | undefined);
    // The instance's last update is when its manifest activity returned: every result committed by then.
    const endOf = new Map(statuses.map((st, i) => [ids[i], st ? Date.parse(String(st.lastUpdatedTime)) : Number.NaN]));
    const outcomes: Record<string, number> = {};
    for (const s of summaries) outcomes[s?.outcome ?? "unfinished"] = (outcomes[s?.outcome ?? "unfinished"] ?? 0) + 1;
    const finishedAt = [...endOf.values()].filter((t) => Number.isFinite(t));
    const makespan = Math.max(...finishedAt) - startedAt;
    const bound = lowerBoundMs(devices);

    // Detection delay: the MDE action's final update (command completed) → the collection's end (evidence committed).
    const actions = h.simulator.actions() as { id: string; status: string; lastUpdateDateTimeUtc: string }[];
    const byAction = new Map(actions.map((a) => [a.id, a]));
    const delaysOf = (keep: (i: number) => boolean) =>
      summaries
        .flatMap((s, i) =>
          keep(i) && s?.outcome === "Completed" && s.actionId
            ? [endOf.get(ids[i])! - Date.parse(byAction.get(s.actionId)!.lastUpdateDateTimeUtc)]
            : [],
        )
        .sort((a, b) => a - b);
    const delays = delaysOf(() => true);
    const onlineDelays = delaysOf((i) => devices[i]!.onlineAfterMs === 0);

    const total = h.simulator.stats();
    const sim = {
      calls: Object.fromEntries(
        Object.entries(total.calls).map(([k, v]) => [k, v - (loneSim.calls[k as keyof typeof loneSim.calls] ?? 0)]),
      ),
      throttled: Object.fromEntries(
        Object.entries(total.throttled).map(([k, v]) => [k, v - (loneSim.throttled[k as keyof typeof loneSim.throttled] ?? 0)]),
      ),
      tooManyRequests: total.tooManyRequests - loneSim.tooManyRequests,
    };
    const calls = Object.fromEntries(
      Object.entries(sim.calls)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => [k, +(v / n).toFixed(2)]),
    );
    const totalPerDevice = Object.values(sim.calls).reduce((a, b) => a + b, 0) / n;
    const all = h.engine.stats();
    const engine = { ...all, episodes: all.episodes - loneEngine.episodes, executions: all.executions - loneEngine.executions };
    const peakRss = process.resourceUsage().maxRSS / 1024;
    return [
      `fleet ${n} devices (${MIX}): outcomes ${JSON.stringify(outcomes)}`,
      `  makespan ${minutes(makespan)} / lower bound ${minutes(bound)} = ratio ${(makespan / bound).toFixed(2)}`,
      `  429s ${sim.tooManyRequests} ${JSON.stringify(Object.fromEntries(Object.entries(sim.throttled).filter(([, v]) => v > 0)))}`,
      `  MDE calls per device ${totalPerDevice.toFixed(1)} ${JSON.stringify(calls)}; a lone collection's ${loneTotal} ${JSON.stringify(loneCalls)}: ratio ${(totalPerDevice / loneTotal).toFixed(2)}`,
      `  detection delay (completed devices: ${delays.length}) p50 ${minutes(quantile(delays, 0.5))}, p95 ${minutes(quantile(delays, 0.95))}, max ${minutes(delays.at(-1) ?? NaN)}; online now (${onlineDelays.length}): p50 ${minutes(quantile(onlineDelays, 0.5))}, p95 ${minutes(quantile(onlineDelays, 0.95))}, max ${minutes(onlineDelays.at(-1) ?? NaN)}`,
      `  largest history per execution ${engine.maxHistoryEventsPerExecution} events; episodes replayed ${engine.episodes} (${(engine.episodes / n).toFixed(1)} per collection); executions ${engine.executions}`,
      `  CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${((cpu.user + cpu.system) / 1e3 / n).toFixed(0)} ms per collection); wall ${(wallMs / 1000).toFixed(1)} s; peak RSS ${peakRss.toFixed(0)} MiB`,
    ];
  } finally {
    await h.stop();
  }
}

const enabled = process.env.BENCH_FLEET === "1";
(enabled ? it : it.skip)(
  "fleet benchmark: prints makespan against its lower bound, 429s, calls per device, detection delay, replay cost",
  async () => {
    const lines: string[] = [];
    for (const n of SIZES) {
      const fleet = await runFleet(n);
      // Printed as each fleet finishes, so a slow large fleet still leaves the small one's figures.
      console.log(fleet.join("\n"));
      lines.push(...fleet);
    }
    // The figures are the output; this only guards against a run that measured nothing.
    expect(lines.length).toBe(SIZES.length * 7);
  },
  60 * MINUTE,
);
