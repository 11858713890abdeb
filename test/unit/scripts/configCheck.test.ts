import { writeFileSync } from "node:fs";
import path from "node:path";
import { runConfigCheck } from "../../../scripts/configCheck";
import { getFilePlaybook, tempAppRoot } from "../shared/configFiles/tempConfig";

function run(args: string[], appRoot: string, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runConfigCheck(args, { env, appRoot, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const repoRoot = path.join(__dirname, "..", "..", "..");

describe("npm run config:check", () => {
  it("exits 0 with a one-line summary of the counts when clean (the repository's own config/)", () => {
    const { code, out, err } = run([], repoRoot);
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^config:check: OK: \d+ playbooks \(\d+ from files, 0 from settings\), 0 plans .*, 0 alert rules .* in config$/);
  });

  it("exits 1 and prints each problem with its file and field", () => {
    const root = tempAppRoot({
      "config/playbooks/triage.json": { name: "triage", commands: [{ type: "GetFile", params: [{ key: "path", value: "C:\\a" }] }] },
      "config/plans/triage.jsn": {},
    });
    const { code, out, err } = run([], root);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      expect.stringMatching(/^config\/plans\/triage\.jsn: not a config file/),
      'config/playbooks/triage.json: commands[0].params[0].key: GetFile takes Path (case-sensitive), not "path"',
      "config/playbooks/triage.json: commands[0].params: GetFile requires Path",
      "config:check: 3 problems; the app would not start",
    ]);
  });

  it("checks the override settings from the environment, which may repair a file", () => {
    const root = tempAppRoot({ "config/playbooks/triage.json": "{ broken" });
    expect(run([], root).code).toBe(1);
    const fixed = run([], root, { PLAYBOOKS: JSON.stringify([getFilePlaybook("triage")]) });
    expect(fixed.code).toBe(0);
    expect(fixed.out[0]).toContain("1 playbooks (0 from files, 1 from settings)");
    expect(fixed.out[0]).toContain("1 file(s) replaced by settings");
    expect(run([], root, { PLAYBOOKS: "[" }).err[0]).toMatch(/^PLAYBOOKS: is not valid JSON/);
  });

  it("reads --settings (a local.settings.json), the environment winning over it", () => {
    const root = tempAppRoot({ "config/playbooks/triage.json": getFilePlaybook("triage") });
    const plans = [{ name: "nightly", playbook: "triage", filter: "healthStatus eq 'Active'" }];
    writeFileSync(path.join(root, "local.settings.json"), JSON.stringify({ Values: { COLLECTION_PLANS: JSON.stringify(plans) } }));
    const fromFile = run(["--settings", "local.settings.json"], root);
    expect(fromFile.code).toBe(0);
    expect(fromFile.out[0]).toContain("1 plans (0 from files, 1 from settings)");
    const bad = run(["--settings", "local.settings.json"], root, { COLLECTION_PLANS: JSON.stringify([{ ...plans[0], playbook: "nope" }]) });
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toMatch(/^COLLECTION_PLANS\[0\]\.playbook: must name a playbook/);
  });

  it("exits 2 on an unknown argument or an unreadable settings file, 0 on --help", () => {
    const root = tempAppRoot({});
    expect(run(["--strict"], root)).toMatchObject({
      code: 2,
      err: [expect.stringMatching(/^config:check: unexpected argument "--strict"/)],
    });
    expect(run(["--settings"], root).code).toBe(2);
    expect(run(["--settings", "missing.json"], root).code).toBe(2);
    expect(run(["--help"], root)).toMatchObject({ code: 0, out: [expect.stringMatching(/^usage: npm run config:check/)] });
  });
});
