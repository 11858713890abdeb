/**
 * The Bicep template (infra/) and the config loader (shared/config.ts and what it delegates to under
 * shared/) must agree on the app settings: a setting the app reads that Azure never sets silently falls
 * back to a default, and a setting Azure sets that the app never reads is a typo or a leftover.
 */
import path from "node:path";
import { bicepObjectKeys, bicepVarObjectKeys, filesUnder, readText, settingsReadIn } from "../../support/sourceText";

const root = path.join(__dirname, "..", "..", "..");
const infra = path.join(root, "infra");

/** Host and platform settings: the Functions host and its extensions read these, not the app. */
const PLATFORM_PREFIXES = ["AzureWebJobsStorage__", "AzureFunctionsJobHost__"];
const PLATFORM_SETTINGS = [
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
];

/** Settings the app reads that the template leaves unset on purpose (README, "Deploy to Azure"). */
const NOT_SET_IN_AZURE: Record<string, string> = {
  EVIDENCE_STORAGE_CONNECTION_STRING:
    "account keys are disabled on the evidence account; the template sets EVIDENCE_STORAGE_ACCOUNT_URL (identity-based) instead",
  AZURE_TENANT_ID: "only for a service principal credential outside Azure; the managed identity needs no tenant setting",
  AUTH_DEVELOPMENT_JWKS: "local development only: the loader refuses AUTH_MODE=development unless LOCAL_DEVELOPMENT=true",
  MANIFEST_SIGNING_DEVELOPMENT_KEY_FILE:
    "local development only: the loader refuses it unless LOCAL_DEVELOPMENT=true; Azure signs with the Key Vault key (MANIFEST_SIGNING_KEY_ID)",
  CONFIG_DIRECTORY:
    "Azure reads config/ in the deployed app root (wwwroot) by default; the setting points elsewhere only for local runs and tools",
};

const isPlatform = (name: string) => PLATFORM_SETTINGS.includes(name) || PLATFORM_PREFIXES.some((p) => name.startsWith(p));

function settingsTheAppReads(): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const file of filesUnder(path.join(root, "shared"), ".ts")) {
    for (const name of settingsReadIn(readText(file))) readers.set(name, [...(readers.get(name) ?? []), path.relative(root, file)]);
  }
  return readers;
}

function settingsTheTemplateSets(): Map<string, string> {
  const set = new Map<string, string>();
  for (const file of filesUnder(infra, ".bicep")) {
    for (const [variable, keys] of bicepVarObjectKeys(readText(file), /Settings$/)) {
      for (const key of keys) set.set(key, `${path.relative(root, file)} (var ${variable})`);
    }
  }
  return set;
}

describe("app settings: infra/ and the config loader agree", () => {
  const read = settingsTheAppReads();
  const set = settingsTheTemplateSets();

  it("finds the loader's settings and the template's app settings (the scanners work)", () => {
    expect([...read.keys()]).toEqual(
      expect.arrayContaining(["MDE_API_BASE_URL", "EVIDENCE_CONTAINER", "PLAYBOOKS", "AZURE_CLIENT_ID", "MDE_MANAGED_IDENTITY_CLIENT_ID"]),
    );
    expect(read.get("EVIDENCE_CHUNK_MIB")).toEqual(["shared/config.ts"]);
    expect([...set.keys()]).toEqual(
      expect.arrayContaining(["MDE_API_BASE_URL", "AzureWebJobsStorage__credential", "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]),
    );
  });

  it("sets every setting the app reads, or documents why Azure leaves it unset", () => {
    const missing = [...read.entries()]
      .filter(([name]) => !set.has(name) && !(name in NOT_SET_IN_AZURE))
      .map(
        ([name, files]) =>
          `${name}: read in ${files.join(", ")} but not set by infra/ (add it to appSettings in infra/main.bicep, or to NOT_SET_IN_AZURE in this test with the reason)`,
      );
    expect(missing).toEqual([]);
  });

  it("sets no setting the app does not read (platform settings excepted)", () => {
    const extra = [...set.entries()]
      .filter(([name]) => !read.has(name) && !isPlatform(name))
      .map(
        ([name, where]) =>
          `${name}: set by ${where} but read nowhere under shared/ (remove it, fix its name, or list it as a platform setting in this test)`,
      );
    expect(extra).toEqual([]);
  });

  it("keeps its exception lists honest: every documented exception is read by the app, every platform prefix is used", () => {
    expect(Object.keys(NOT_SET_IN_AZURE).filter((name) => !read.has(name) || set.has(name))).toEqual([]);
    expect(PLATFORM_PREFIXES.filter((p) => ![...set.keys()].some((name) => name.startsWith(p)))).toEqual([]);
    expect(PLATFORM_SETTINGS.filter((name) => !set.has(name))).toEqual([]);
  });
});

describe("source text scanners", () => {
  it("reads names passed to any reader method, across lines, and for-of lists; not other strings", () => {
    const source = `
      const a = reader.optional("ALPHA_ONE");
      const b = r.positiveInt(
        "BETA", 5);
      const c = reader.matching('GAMMA_3', "x", /y/, "must be y");
      for (const name of ["DELTA_ID", "EPSILON"]) check(reader.optional(name));
      log.info("collection finished", { setting: "NOT_READ" });
      headers.get("content-type");`;
    expect(settingsReadIn(source).sort()).toEqual(["ALPHA_ONE", "BETA", "DELTA_ID", "EPSILON", "GAMMA_3"]);
  });

  it("reads the top-level keys of a Bicep object, quoted or not, skipping nested objects, strings and comments", () => {
    const text = `var appSettings = {
  // A_COMMENT: 'no'
  FIRST: 'x: y'
  'QUOTED_KEY': concat('a', '}')
  NESTED: {
    INNER: 'no'
  }
  LIST: [
    'NOT_A_KEY: no'
  ]
  LAST: cond
    ? 'a'
    : 'b'
}
var other = { SKIPPED: 1 }
`;
    expect(bicepVarObjectKeys(text, /Settings$/)).toEqual(new Map([["appSettings", ["FIRST", "QUOTED_KEY", "NESTED", "LIST", "LAST"]]]));
    expect(bicepObjectKeys("{ A: 1, B: { C: 2 } }", 0)).toEqual(["A", "B"]);
  });
});
