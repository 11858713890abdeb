/**
 * Comments cite what anyone can check: Microsoft's public pages by URL, a public repository, or a
 * fixture under test/. They never cite the team's private working copies of the MDE pages ("seeds")
 * or its notes, which are not in this repository. This test fails when such a citation comes back
 * anywhere outside test/ (tests may keep fixture names such as SEED_001_REQUEST).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");
const DIRECTORIES = ["functions", "orchestrators", "activities", "shared", "devhost", "simulator", "scripts", "infra"];
const ROOT_FILES = ["README.md", "index.ts", "app.ts"];
const TEXT_FILE = /\.(?:[cm]?[jt]s|sh|ps1|bicep(?:param)?|json|md|ya?ml)$/;

/** Citations of files that are not in the repository, each with what it points at. */
const PRIVATE_CITATIONS: ReadonlyArray<{ pattern: RegExp; cites: string }> = [
  { pattern: /\bseed 0\d\d\b/i, cites: "a numbered seed" },
  { pattern: /\bseeds?\/|\bshared\/seeds\b/i, cites: "the seeds folder" },
  { pattern: /\bnotes\/|\bshared\/notes\b/i, cites: "the notes folder" },
  { pattern: /\b(?:mde-api-facts|blob-copy|durable-replay|deploy|toolchain|style)\.md\b/i, cites: "a notes file" },
  { pattern: /\bshared notes\b/i, cites: "the shared notes" },
  { pattern: /\bthe seeds?['\u2019]s?(?![\w'])/i, cites: "the seeds, by name" },
  // A parenthesis in prose, not a call: `seededRandom(seed)` is fine.
  { pattern: /(?:^|[\s*/])\(seeds?[,:;) ]/i, cites: "the seeds, in a parenthesis" },
  { pattern: /\bseed (?:run-live-response|get-live-response-result|limitation)/i, cites: "a seed page" },
  { pattern: /(?:^|[\s*/])\(notes[,:;)]|\bsee the notes\b/i, cites: "the notes, by name" },
];

/** Every text file under `dir`, recursively, skipping dependencies and build output. */
function textFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (entry === "node_modules" || entry === "dist" || entry === "dist-tools") return [];
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return textFilesUnder(full);
    return TEXT_FILE.test(entry) ? [full] : [];
  });
}

/** `path:line: text (cites ...)` for every line of `text` that cites a private file. */
function privateCitationsIn(file: string, text: string): string[] {
  return text
    .split("\n")
    .flatMap((line, index) =>
      PRIVATE_CITATIONS.filter(({ pattern }) => pattern.test(line)).map(
        ({ cites }) => `${path.relative(ROOT, file)}:${index + 1}: ${line.trim()} (cites ${cites})`,
      ),
    );
}

describe("citations anyone can check", () => {
  const files = [...DIRECTORIES.map((d) => path.join(ROOT, d)).flatMap(textFilesUnder), ...ROOT_FILES.map((f) => path.join(ROOT, f))];

  it("scans the product, the local tools and the infrastructure", () => {
    const relative = files.map((f) => path.relative(ROOT, f).split(path.sep).join("/"));
    expect(relative).toEqual(
      expect.arrayContaining(["shared/mde/limits.ts", "simulator/liveResponseApi.ts", "infra/main.bicep", "README.md"]),
    );
  });

  it("finds no citation of the seeds or the notes outside test/", () => {
    const found = files.flatMap((file) => privateCitationsIn(file, readFileSync(file, "utf8")));
    expect(found).toEqual([]);
  });

  it("recognises each form such citations took", () => {
    const cited = [
      "(seed 001, Limitations 1)",
      "Source: ../shared/seeds (run-live-response)",
      "/work/shared/notes/mde-api-facts.md",
      "(see shared notes, blob-copy.md)",
      '(mde-api-facts.md, "Errors")',
      "Azurite checks it against its own time (blob-copy.md).",
      "which the seed's short example omits",
      "@default 25 (the seeds' concurrent session limit)",
      "(seed, limitation 4)",
      '(seed: get-live-response-result, "File Content Example")',
      '(seeds: "Authorization: Bearer {token}. Required.")',
      "(seed run-live-response, limitation 1)",
      "Microsoft's current page (2025-12) says 50 (notes)",
      "(notes, portal limits)",
      "Microsoft's pages disagree over time (see the notes on sessions",
    ];
    expect(cited.filter((line) => privateCitationsIn("x.ts", line).length === 0)).toEqual([]);
  });

  it("leaves ordinary uses of the words alone", () => {
    const ordinary = [
      "/** Seed of the random stream. @default 1 (per machine: the global seed mixed with the machine id) */",
      "const seed = subject.faults.seed ?? mixSeed(this.global.config.seed, subject.machineId);",
      "export function seededRandom(seed: number): () => number {",
      'this.latencyRandom = seededRandom(mixSeed(seed, "latency"));',
      "const n = count(notes);",
      "@description('azd environment name; names the resource group and seeds every resource name.')",
      "/** One line for comments, logs and cancel notes: the name and the object id. */",
      '// See https://learn.microsoft.com/defender-endpoint/api/run-live-response ("Limitations").',
    ];
    expect(ordinary.flatMap((line) => privateCitationsIn("x.ts", line))).toEqual([]);
  });
});
