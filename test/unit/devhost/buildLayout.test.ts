/**
 * Where the devhost sits: the deployable build (tsconfig.build.json, what `npm run build` puts in
 * dist/) holds only the app, so no app file imports devhost/, simulator/ or scripts/; and
 * scripts/, simulator/ and test/ reach devhost/ only through its front door, devhost/index.ts.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const APP_ROOTS = ["index.ts", "app.ts", "functions", "orchestrators", "activities", "shared"];
const DEVHOST = path.join(ROOT, "devhost");
const FRONT_DOOR = path.join(DEVHOST, "index");

interface BuildConfig {
  compilerOptions?: { outDir?: string };
  include: string[];
}

function readConfig(file: string): BuildConfig {
  return JSON.parse(readFileSync(path.join(ROOT, file), "utf8")) as BuildConfig;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Module specifiers in static and dynamic imports, re-exports, require() and jest.mock(). */
function specifiers(file: string): string[] {
  const code = readFileSync(path.join(ROOT, file), "utf8");
  const pattern = /(?:from|import)\s+"([^"]+)"|(?:import|require|jest\.mock|jest\.requireActual)\(\s*"([^"]+)"/g;
  return [...code.matchAll(pattern)].map((m) => m[1] ?? m[2]!);
}

/** The file a relative specifier in `from` names, as TypeScript resolves it (x.ts, else x/index.ts). */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = path.resolve(ROOT, path.dirname(from), spec);
  const file = [`${base}.ts`, path.join(base, "index.ts"), base].find((candidate) => existsSync(candidate) && candidate.endsWith(".ts"));
  return file === undefined ? undefined : path.relative(ROOT, file);
}

/** Every project file tsc compiles for these roots: the roots plus all they import, transitively. */
function importClosure(roots: string[]): string[] {
  const seen = new Set<string>();
  const pending = roots.flatMap((root) => (root.endsWith(".ts") ? [root] : sourceFiles(root).filter((f) => f.endsWith(".ts"))));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiers(file).filter((s) => s.startsWith("."))) {
      const target = resolveRelative(file, spec);
      if (target !== undefined) pending.push(target);
    }
  }
  return [...seen].sort();
}

const isAppFile = (file: string): boolean => APP_ROOTS.some((root) => file === root || file.startsWith(`${root}${path.sep}`));

describe("the deployable build holds only the app", () => {
  it("tsconfig.build.json includes the app's folders and nothing else", () => {
    expect(readConfig("tsconfig.build.json").include).toEqual(APP_ROOTS);
  });

  it("no app file imports, however indirectly, anything from devhost/, simulator/, scripts/ or test/", () => {
    const compiled = importClosure(APP_ROOTS);
    expect(compiled).toEqual(expect.arrayContaining(["index.ts", "app.ts"]));
    expect(compiled.filter((file) => !isAppFile(file))).toEqual([]);
  });

  it("tsconfig.tools.json builds devhost, simulator and scripts into dist-tools/, and no app entry point or trigger", () => {
    const tools = readConfig("tsconfig.tools.json");
    expect(tools.compilerOptions?.outDir).toBe("dist-tools");
    expect(tools.include).toEqual(["devhost", "simulator", "scripts"]);
    const compiled = importClosure(tools.include);
    expect(compiled).toEqual(expect.arrayContaining(["scripts/start.ts", "scripts/demo.ts", "simulator/main.ts", "devhost/index.ts"]));
    expect(
      compiled.filter((file) => ["index.ts", "app.ts"].includes(file) || /^(functions|orchestrators|activities)\//.test(file)),
    ).toEqual([]);
  });
});

describe("devhost has one front door", () => {
  const outside = ["scripts", "simulator", "test"].flatMap(sourceFiles);

  it("finds the files that use the devhost", () => {
    expect(outside).toEqual(expect.arrayContaining(["scripts/start.ts", "scripts/demo.ts", "test/support/collectorHarness.ts"]));
  });

  it("scripts/, simulator/ and test/ import devhost/index.ts and no other devhost file", () => {
    const sideDoors = outside.flatMap((file) =>
      specifiers(file)
        .filter((spec) => spec.startsWith("."))
        .map((spec) => path.resolve(ROOT, path.dirname(file), spec))
        .filter((target) => target.startsWith(`${DEVHOST}${path.sep}`) && target !== FRONT_DOOR)
        .map((target) => `${file} imports ${path.relative(ROOT, target)}`),
    );
    expect(sideDoors).toEqual([]);
  });
});
