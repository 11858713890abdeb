/**
 * Loads the app's registrations in plain Node (the dev host, scripts): routes requests for
 * `@azure/functions-core` to the devhost stub, then requires the app entry so its real
 * `app.*` / `df.app.*` calls run. Under jest, moduleNameMapper does the routing instead.
 */
import Module from "node:module";
import path from "node:path";
import * as coreStub from "./functionsCoreStub";
import { defaultRegistry, type FunctionRegistry } from "./registry";

type LoadFn = (request: string, parent: unknown, isMain: boolean) => unknown;
interface ModuleInternals {
  _load: LoadFn;
}

let installed = false;

/**
 * Installs the `Module._load` hook. Idempotent. Must run before anything requires
 * `@azure/functions` (the library looks the core module up once and caches the answer).
 */
export function installFunctionsCoreStub(): void {
  if (installed) return;
  const internals = Module as unknown as ModuleInternals;
  const original = internals._load;
  internals._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (request === "@azure/functions-core") return coreStub;
    return original.call(this, request, parent, isMain);
  };
  installed = true;
}

/** Where the app starts: `main` of the package.json in `root`. */
export function appEntryPath(root: string = process.cwd()): string {
  const pkgPath = path.join(root, "package.json");
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- reading JSON synchronously at startup
  const pkg = require(pkgPath) as { main?: unknown };
  if (typeof pkg.main !== "string") throw new Error(`${pkgPath} has no "main" entry to load the app from`);
  return path.resolve(root, pkg.main);
}

/**
 * Installs the stub and requires the app entry (default: package.json `main` under cwd).
 * @returns the registry now holding the app's functions
 */
export function loadApp(entry?: string): FunctionRegistry {
  installFunctionsCoreStub();
  const target = entry ? path.resolve(entry) : appEntryPath();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app is CommonJS and loads for its side effects
  require(target);
  return defaultRegistry;
}
