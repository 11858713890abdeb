/**
 * Reads setting names out of source text, for the drift tests: the names the app's config loader
 * reads (TypeScript under shared/) and the names the Bicep template sets (object literals in infra/).
 * Text scanning on purpose: the tests must run without the Bicep compiler.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Every file under `dir` (recursively) whose name ends with `extension`. */
export function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return filesUnder(full, extension);
    return entry.endsWith(extension) ? [full] : [];
  });
}

/** A setting name: upper case, digits and underscores, at least four characters (PLAYBOOKS, MDE_API_BASE_URL). */
const SETTING = String.raw`[A-Z][A-Z0-9_]{2,}[A-Z0-9]`;

/**
 * Setting names a TypeScript source reads: every upper-case string literal passed as the first argument
 * of a method call (`reader.optional("X")`, `reader.positiveInt("X", 5)`, `r.list("X")`), and the
 * literals of `for (const name of ["X", "Y"])` lists that a loop then reads by variable.
 */
export function settingsReadIn(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(new RegExp(String.raw`\.\s*[A-Za-z_$][\w$]*\s*\(\s*["'\`](${SETTING})["'\`]`, "g"))) names.add(m[1]);
  for (const list of source.matchAll(/for\s*\(\s*const\s+\w+\s+of\s+\[([^\]]*)\]\s*\)/g)) {
    for (const m of list[1].matchAll(new RegExp(String.raw`["'\`](${SETTING})["'\`]`, "g"))) names.add(m[1]);
  }
  return [...names];
}

/** Skips a Bicep string, comment or nothing at `i`; returns the index after it, or `i` when none starts there. */
function skipBicepToken(text: string, i: number): number {
  if (text.startsWith("'''", i)) {
    const end = text.indexOf("'''", i + 3);
    return end < 0 ? text.length : end + 3;
  }
  if (text[i] === "'") {
    let j = i + 1;
    while (j < text.length && text[j] !== "'") j += text[j] === "\\" ? 2 : 1;
    return j + 1;
  }
  if (text.startsWith("//", i)) {
    const end = text.indexOf("\n", i);
    return end < 0 ? text.length : end;
  }
  if (text.startsWith("/*", i)) {
    const end = text.indexOf("*/", i + 2);
    return end < 0 ? text.length : end + 2;
  }
  return i;
}

/**
 * The keys of the object literal that opens at `text[open] === "{"`, at its own level only
 * (keys of nested objects are not included). Keys may be identifiers or quoted strings.
 */
export function bicepObjectKeys(text: string, open: number): string[] {
  if (text[open] !== "{") throw new Error(`no object literal at offset ${open}`);
  const keys: string[] = [];
  const key = /^[ \t]*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)')[ \t]*:/;
  let depth = 0;
  let entryStart = true;
  for (let i = open; i < text.length;) {
    const c = text[i];
    const comment = text.startsWith("//", i) || text.startsWith("/*", i);
    if (depth === 1 && entryStart && !/\s/.test(c) && !comment) {
      const m = key.exec(text.slice(i, i + 300));
      if (m) keys.push(m[1] ?? m[2].replace(/\\'/g, "'"));
      entryStart = false;
    }
    const skipped = skipBicepToken(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    if (c === "{" || c === "[" || c === "(") depth++;
    else if (c === "}" || c === "]" || c === ")") {
      depth--;
      if (depth === 0) return keys;
    } else if (depth === 1 && (c === "\n" || c === ",")) entryStart = true;
    if (depth === 1 && (c === "{" || c === "\n")) entryStart = true;
    i++;
  }
  throw new Error(`object literal at offset ${open} is not closed`);
}

/** The keys of every `var <name> = {` object literal whose name matches `varName`, by variable name. */
export function bicepVarObjectKeys(text: string, varName: RegExp): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const m of text.matchAll(/^var\s+([A-Za-z_]\w*)\s*=\s*\{/gm)) {
    if (!varName.test(m[1])) continue;
    found.set(m[1], bicepObjectKeys(text, m.index! + m[0].length - 1));
  }
  return found;
}

export function readText(file: string): string {
  return readFileSync(file, "utf8");
}
