// ESLint flat config: typescript-eslint's recommended rules, Prettier owns formatting, and import
// boundaries that keep the design's layers apart (https://typescript-eslint.io/getting-started).
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

const PRODUCT = ["index.ts", "app.ts", "functions/**/*.ts", "orchestrators/**/*.ts", "activities/**/*.ts", "shared/**/*.ts"];
const LOCAL_TOOLS = ["**/devhost/**", "**/simulator/**", "**/scripts/**", "**/test/**"];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "dist-tools/", "coverage/", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // Prettier wraps code at 140; this holds comments to the same width (long messages may stay on one line).
      "max-len": ["error", { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true }],
    },
  },
  {
    // The product never depends on the local engine, the simulator, scripts or tests, and none of its lines is over 140.
    files: PRODUCT,
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: LOCAL_TOOLS, message: "Product code must not import local tooling." }] }],
      "max-len": ["error", { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    // shared/ is the bottom layer: the orchestration contract lives here and nothing here knows who uses it.
    files: ["shared/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: LOCAL_TOOLS, message: "Product code must not import local tooling." },
            {
              group: ["**/orchestrators/**", "**/activities/**", "**/functions/**", "**/app"],
              message: "shared/ must not import the layers above it.",
            },
          ],
        },
      ],
    },
  },
  {
    // Orchestrators are replayed: only durable-functions and pure modules (see test/unit/orchestrators/determinism.test.ts).
    files: ["orchestrators/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: LOCAL_TOOLS, message: "Product code must not import local tooling." },
            {
              group: ["node:*", "fs", "http", "https", "crypto", "os", "child_process"],
              message: "Orchestrators do no I/O: use an activity.",
            },
            {
              group: [
                "@azure/*",
                "**/shared/config",
                "**/shared/mde/client",
                "**/shared/evidence/blobWriter",
                "**/activities/**",
                "**/functions/**",
              ],
              message: "Orchestrators are replayed: call an activity instead.",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "fetch", message: "Orchestrators do no I/O: use an activity." },
        { name: "setTimeout", message: "Use context.df.createTimer." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "Use context.df.currentUtcDateTime." },
        { object: "Math", property: "random", message: "Use context.df.newGuid." },
        { object: "process", property: "env", message: "Settings reach orchestrators through their input." },
      ],
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off", "max-len": "off" },
  },
);
