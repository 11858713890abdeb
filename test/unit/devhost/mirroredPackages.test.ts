/**
 * The devhost copies private internals of durable-functions and @azure/functions (wire formats,
 * task numbering, error text, the worker's side of registration). These tests fail when the
 * installed packages move off the versions those copies were checked against, and name what to
 * re-check; they also compare the tables the engine copies with the installed library's own.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ActionType, EventType, MIRRORED_PACKAGES, parseOrchestrationFailure, type MirroredPackage } from "../../../devhost";

const ROOT = path.resolve(__dirname, "..", "..", "..");
/** Loads from the project's node_modules, internals included (they ship without type declarations). */
const fromProject = createRequire(path.join(ROOT, "package.json"));

function packageDir(name: string): string {
  return path.dirname(fromProject.resolve(`${name}/package.json`));
}

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(packageDir(name), "package.json"), "utf8")) as { version: string }).version;
}

/** What a maintainer must do when `pkg` is installed at `installed`. */
function recheckAdvice(pkg: MirroredPackage, installed: string): string {
  const areas = pkg.areas.map(
    (a) => `  - ${a.area}\n    devhost: ${a.devhostFiles.join(", ")}\n    ${pkg.name}: ${a.upstreamFiles.join(", ")}`,
  );
  return (
    `${pkg.name} is ${installed}, but the devhost mirrors the internals of ${pkg.version}. Re-check:\n${areas.join("\n")}\n` +
    `then run test/unit/devhost and test/e2e, and set the version in devhost/mirroredPackages.ts.`
  );
}

/** Numeric members of a TypeScript enum compiled to JS (it also maps numbers back to names). */
function enumTable(compiled: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(compiled).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

describe("the library versions the devhost mirrors", () => {
  it("durable-functions and @azure/functions are installed at the versions whose internals the devhost copies", () => {
    expect(MIRRORED_PACKAGES.map((p) => p.name)).toEqual(["durable-functions", "@azure/functions"]);
    const drift = MIRRORED_PACKAGES.filter((p) => installedVersion(p.name) !== p.version).map((p) =>
      recheckAdvice(p, installedVersion(p.name)),
    );
    expect(drift).toEqual([]);
  });

  it("every file the re-check list names exists, in the repository and in the installed package", () => {
    const missing = MIRRORED_PACKAGES.flatMap((pkg) =>
      pkg.areas.flatMap((area) => [
        ...area.devhostFiles.filter((f) => !existsSync(path.join(ROOT, f))),
        ...area.upstreamFiles.filter((f) => !existsSync(path.join(packageDir(pkg.name), f))).map((f) => `${pkg.name}/${f}`),
      ]),
    );
    expect(missing).toEqual([]);
  });
});

describe("the tables the engine copies match the installed durable-functions", () => {
  it("action type numbers are the library's ActionType", () => {
    const library = fromProject("durable-functions/lib/src/actions/ActionType") as { ActionType: Record<string, unknown> };
    expect({ ...ActionType }).toEqual(enumTable(library.ActionType));
  });

  it("history event type numbers are the library's HistoryEventType", () => {
    const library = fromProject("durable-functions/lib/src/history/HistoryEventType") as { HistoryEventType: Record<string, unknown> };
    expect({ ...EventType }).toEqual(enumTable(library.HistoryEventType));
  });

  it("an OrchestrationFailureError the library builds splits into the user's message and the orchestrator state", () => {
    const library = fromProject("durable-functions/lib/src/error/OrchestrationFailureError") as {
      OrchestrationFailureError: new (error: unknown, state: unknown) => Error;
    };
    const state = {
      isDone: false,
      actions: [[{ actionType: ActionType.CallActivity, functionName: "submit" }]],
      error: "device offline",
      customStatus: { phase: "submitting" },
    };
    const parsed = parseOrchestrationFailure(new library.OrchestrationFailureError(new Error("device offline"), state).message);
    expect(parsed).toEqual({ message: "device offline", state });
  });
});
