/**
 * `npm run probe [-- <base URL>] [--no-baseline]`: throws bad inputs at a RUNNING `npm start` (an
 * attacker's requests: no or forged tokens, wrong roles, forged principal headers, a web page's
 * text/plain POST, foreign Origin and Host, the admin API on activities, oversized and endless
 * chunked bodies, control and bidi characters, huge field names, 1,000 empty commands, `..` script
 * names, UNC paths, forged correlation markers, forged cancel bodies and alerts, the Durable
 * management API) and checks each is refused: a 4xx naming the field for a validation error, or the
 * documented safe outcome. Then checks, through the local host's Durable HTTP API, that none of it
 * started a collection. Prints a table and
 * `probe: N tried, N refused as expected, N unexpected, N collections started`; exits 1 on anything
 * unexpected, 2 when it cannot probe (no host, a base URL that is not loopback).
 *
 * Base URL: the first argument, else PROBE_BASE_URL, else http://127.0.0.1:7071. Loopback only: the
 * probe is for a local host, never for a deployed app. Tokens come from this machine's development
 * identity, as `npm run token` mints them (npm start with AUTH_MODE=development trusts it).
 * The baseline (skipped with --no-baseline) starts ONE collection on purpose, on a random machine id
 * no tenant has, to probe idempotency-key reuse; it is counted apart.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadOrCreateDevelopmentIdentity } from "../devhost";
import { MAX_ERROR_BODY_BYTES, PROBE_CASES, type ProbeCase, type ProbeContext } from "./probe/cases";
import { mintProbeTokens, unknownMachineId } from "./probe/tokens";
import { jsonOf, send, type ProbeAnswer } from "./probe/wire";

const DEFAULT_BASE_URL = "http://127.0.0.1:7071";
/** Time the host gets after the last case to start whatever a probe might have started in the background. */
const SETTLE_MS = 1500;

interface Outcome {
  probe: ProbeCase;
  answer: ProbeAnswer;
  /** Why the answer is not what was expected; undefined when it is. */
  unexpected?: string;
}

/** The loopback base URL to probe. @throws Error naming the problem */
export function probeBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a URL: ${raw}`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (!(host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host))) {
    throw new Error(`refusing to probe ${url.host}: the probe only targets a local host on loopback (127.0.0.1, localhost, [::1])`);
  }
  if (url.protocol !== "http:") throw new Error(`the local host speaks http:, not ${url.protocol}`);
  return new URL(url.origin);
}

/** Why `answer` is not what `probe` expects, or undefined. */
export function judge(probe: ProbeCase, answer: ProbeAnswer, ctx: ProbeContext): string | undefined {
  const { status, field, check } = probe.expect;
  if (!status.includes(answer.status)) return `expected ${status.join("/")}, got ${answer.status || answer.error}`;
  if (answer.status >= 400 && answer.bytes > MAX_ERROR_BODY_BYTES)
    return `error body of ${answer.bytes} bytes (over ${MAX_ERROR_BODY_BYTES})`;
  if (field !== undefined) {
    const details = (jsonOf(answer) as { error?: { details?: Array<{ field?: unknown }> } } | undefined)?.error?.details;
    const fields = Array.isArray(details) ? details.map((d) => String(d.field)) : [];
    if (!fields.includes(field)) return `does not name ${field} (named: ${fields.slice(0, 5).join(", ") || "nothing"})`;
  }
  return check?.(answer, ctx);
}

async function instanceIds(base: URL): Promise<Set<string>> {
  const answer = await send(
    base,
    { method: "GET", path: "/runtime/webhooks/durabletask/instances?showInput=false" },
    { keepBytes: 256 * 1024 * 1024, timeoutMs: 60_000 },
  );
  if (answer.status !== 200) throw new Error(`cannot list durable instances at ${base.origin} (${answer.status || answer.error})`);
  const list = jsonOf(answer);
  if (!Array.isArray(list)) throw new Error("the durable instance list is not a JSON array");
  return new Set(list.map((i) => String((i as { instanceId?: unknown }).instanceId)));
}

function printTable(outcomes: Outcome[]): void {
  const rows = outcomes.map((o, i) => [
    String(i + 1),
    o.probe.area,
    o.probe.name.length > 70 ? `${o.probe.name.slice(0, 69)}…` : o.probe.name,
    o.probe.expect.status.join("/") + (o.probe.expect.field ? ` ${o.probe.expect.field}` : ""),
    String(o.answer.status || "-"),
    o.unexpected ? "UNEXPECTED" : "ok",
  ]);
  const header = ["#", "area", "case", "expected", "got", "result"];
  const widths = header.map((h, c) => Math.min(72, Math.max(h.length, ...rows.map((r) => r[c]!.length))));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  const unexpected = outcomes.filter((o) => o.unexpected);
  if (unexpected.length > 0) {
    console.log("\nUnexpected:");
    for (const o of unexpected) console.log(`  #${outcomes.indexOf(o) + 1} ${o.probe.name}: ${o.unexpected}`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { "no-baseline": { type: "boolean" } } });
  const base = probeBaseUrl(positionals[0] ?? process.env.PROBE_BASE_URL ?? DEFAULT_BASE_URL);
  const status = await send(base, { method: "GET", path: "/admin/host/status" }, { timeoutMs: 5000 });
  if (status.status !== 200) throw new Error(`no npm start answers at ${base.origin} (${status.status || status.error}); start it first`);

  // dist-tools/scripts/probe.js -> the package root, where npm start keeps the development identity.
  const identity = await loadOrCreateDevelopmentIdentity(path.resolve(__dirname, "..", ".."));
  const ctx: ProbeContext = {
    base,
    tokens: await mintProbeTokens(identity),
    machineId: unknownMachineId(),
    runId: randomBytes(6).toString("hex"),
  };
  const cases = values["no-baseline"] ? PROBE_CASES.filter((c) => !c.needsBaseline) : PROBE_CASES;

  const before = await instanceIds(base);
  const outcomes: Outcome[] = [];
  for (const probe of cases) {
    const answer = await send(base, probe.request(ctx));
    probe.after?.(answer, ctx);
    outcomes.push({ probe, answer, unexpected: judge(probe, answer, ctx) });
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const started = [...(await instanceIds(base))].filter((id) => !before.has(id) && id !== ctx.baseline?.instanceId);

  printTable(outcomes);
  if (started.length > 0) {
    const more = started.length > 10 ? ` and ${started.length - 10} more` : "";
    console.log(`\nStarted by the probe's bad inputs: ${started.slice(0, 10).join(", ")}${more}`);
  }
  if (ctx.baseline)
    console.log(`\nBaseline collection started on purpose (machine ${ctx.machineId}, no tenant has it): ${ctx.baseline.instanceId}`);
  const unexpected = outcomes.filter((o) => o.unexpected).length;
  const refused = outcomes.length - unexpected;
  console.log(
    `\nprobe: ${outcomes.length} tried, ${refused} refused as expected, ${unexpected} unexpected, ${started.length} collections started`,
  );
  return unexpected > 0 || started.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(`probe: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 2;
    },
  );
}
