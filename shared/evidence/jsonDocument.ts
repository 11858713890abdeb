/**
 * The exact bytes a JSON document (the manifest, its signature) is stored as: two-space indented
 * UTF-8 with a final newline. One function, so what is signed and what is stored cannot differ.
 */
export function jsonDocument(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
}
