/**
 * Where the governor's document lives, behind a conditional read-modify-write: read returns the
 * document with its ETag, write succeeds only if the document is still that version (or, with no
 * ETag, does not exist yet). Every instance and activity of the tenant agrees through these conditions.
 */

/** The stored document (unparsed: the governor checks its shape) and its version. */
export interface StoredDocument {
  /** undefined when the stored text is not JSON. */
  document: unknown;
  etag: string;
}

export interface GovernorStore {
  /** The document and its ETag, or undefined when there is none yet. Throws on storage failure. */
  read(): Promise<StoredDocument | undefined>;
  /**
   * Writes the document if it is still at `etag` (If-Match), or does not exist yet when `etag` is
   * undefined (If-None-Match: *). "conflict" when another writer got there first. Throws on storage failure.
   */
  write(document: unknown, etag: string | undefined): Promise<"written" | "conflict">;
}

/**
 * The store in memory, for unit tests and single-process tools: the same conditions as the blob store,
 * with every read and write a separate turn of the event loop so concurrent callers interleave.
 */
export class MemoryGovernorStore implements GovernorStore {
  private text: string | undefined;
  private version = 0;

  async read(): Promise<StoredDocument | undefined> {
    await Promise.resolve();
    if (this.text === undefined) return undefined;
    return { document: JSON.parse(this.text), etag: String(this.version) };
  }

  async write(document: unknown, etag: string | undefined): Promise<"written" | "conflict"> {
    await Promise.resolve();
    const current = this.text === undefined ? undefined : String(this.version);
    if (current !== etag) return "conflict";
    this.text = JSON.stringify(document);
    this.version++;
    return "written";
  }

  /** The document as stored (tests inspect it). */
  get stored(): unknown {
    return this.text === undefined ? undefined : JSON.parse(this.text);
  }

  /** Size of the stored document in bytes. */
  get storedBytes(): number {
    return this.text === undefined ? 0 : Buffer.byteLength(this.text);
  }
}
