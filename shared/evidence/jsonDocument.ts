/**
 * The exact bytes a JSON document (the manifest, its signature) is stored as: two-space indented
 * UTF-8 with a final newline. One function, so what is signed and what is stored cannot differ.
 */
export function jsonDocument(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
}

/** A stored JSON document read back: its top-level object, or why it is not one. */
export function parseJsonDocument(bytes: Buffer): { value: Record<string, unknown> } | { error: "not JSON" | "not a JSON object" } {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { error: "not JSON" };
  }
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? { value: value as Record<string, unknown> }
    : { error: "not a JSON object" };
}
