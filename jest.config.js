/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }],
    // jose ships only ES modules; Node 22 loads them natively, jest's module system needs them as CommonJS.
    "/node_modules/jose/.+\\.js$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // The Functions worker injects @azure/functions-core; outside the host the project's own stub captures registrations.
  // The one path into devhost/ that is not its front door (devhost/index.ts): a module mapping, not an import.
  moduleNameMapper: { "^@azure/functions-core$": "<rootDir>/devhost/functionsCoreStub.ts" },
  globalSetup: "<rootDir>/test/support/globalSetup.ts",
  globalTeardown: "<rootDir>/test/support/globalTeardown.ts",
  testTimeout: 60000,
  reporters: ["default", "<rootDir>/test/support/summaryReporter.js"],
};
