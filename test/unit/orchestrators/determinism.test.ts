import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Orchestrators are replayed: they may only use `context.df` for time, I/O and randomness. This
 * guard fails when an orchestrator file imports something that does I/O or reads ambient state.
 */
const DIR = path.join(__dirname, "../../../orchestrators");
const ALLOWED_IMPORTS = [
  /^durable-functions$/,
  /^\.\/[A-Za-z]+$/,
  /^\.\.\/shared\/contract$/,
  /^\.\.\/shared\/cancelRequest$/,
  /^\.\.\/shared\/timing$/,
  /^\.\.\/shared\/publicMessage$/,
  /^\.\.\/shared\/evidence\/manifest$/,
  /^\.\.\/shared\/mde\/models$/,
  /^\.\.\/shared\/alerts\/streamingSettle$/,
];
const FORBIDDEN = [/Date\.now\(/, /new Date\(\)/, /Math\.random\(/, /process\.env/, /setTimeout\(/, /\bfetch\(/, /require\(/];

const files = readdirSync(DIR).filter((f) => f.endsWith(".ts"));

describe("orchestrators stay deterministic", () => {
  it("has orchestrator files to check", () => {
    expect(files).toContain("collectEvidence.ts");
  });

  it.each(files)("%s imports only replay-safe modules", (file) => {
    const source = readFileSync(path.join(DIR, file), "utf8");
    const imports = [...source.matchAll(/from\s+"([^"]+)"|import\("([^"]+)"\)/g)].map((m) => m[1] ?? m[2]);
    expect(imports.filter((spec) => !ALLOWED_IMPORTS.some((re) => re.test(spec)))).toEqual([]);
  });

  it.each(files)("%s reads no clock, randomness, environment or network", (file) => {
    const code = readFileSync(path.join(DIR, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    expect(FORBIDDEN.filter((re) => re.test(code)).map(String)).toEqual([]);
  });
});
