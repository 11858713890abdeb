import { createHash } from "node:crypto";

/** SHA-256 and MD5 of a byte stream, fed in order. */
export interface StreamDigest {
  /** Takes the next bytes; the caller may reuse the chunk once the returned promise (if any) settles. */
  update(chunk: Buffer): void | Promise<void>;
  /** Lowercase hex SHA-256 and base64 MD5 of everything fed. */
  finish(): Promise<{ sha256: string; md5: string }>;
  /** Abandons the digest (the read failed). */
  abort(): void;
}

/** Makes one StreamDigest per blob read. */
export type StreamDigestFactory = () => StreamDigest;

/** Both digests on the calling thread (node:crypto, OpenSSL): the writer's read-back and small blobs. */
export const inlineDigest: StreamDigestFactory = () => {
  const sha256 = createHash("sha256");
  const md5 = createHash("md5");
  return {
    update(chunk) {
      sha256.update(chunk);
      md5.update(chunk);
    },
    finish: async () => ({ sha256: sha256.digest("hex"), md5: md5.digest("base64") }),
    abort() {},
  };
};
