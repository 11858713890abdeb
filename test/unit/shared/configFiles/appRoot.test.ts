import { mkdirSync } from "node:fs";
import path from "node:path";
import { findAppRoot } from "../../../../shared/configFiles/appRoot";
import { tempAppRoot } from "./tempConfig";

describe("findAppRoot", () => {
  it("finds the folder holding package.json from compiled code in dist/", () => {
    const root = tempAppRoot({});
    mkdirSync(path.join(root, "dist", "shared"), { recursive: true });
    expect(findAppRoot(path.join(root, "dist"))).toBe(root);
    expect(findAppRoot(path.join(root, "dist", "shared"))).toBe(root);
    expect(findAppRoot(root)).toBe(root);
  });

  it("gives undefined when no folder up to the root holds package.json", () => {
    expect(findAppRoot(path.parse(process.cwd()).root)).toBeUndefined();
  });
});
