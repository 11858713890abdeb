import { Worker } from "node:worker_threads";
import type { StreamDigest, StreamDigestFactory } from "../streamDigest";

/**
 * The worker's code, inline so it runs the same from the TypeScript sources (tests) and the build.
 * Each worker holds the hash states of the sessions it serves and hashes shared slots in order.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  const key = m.id + "/" + m.algorithm;
  try {
    if (m.op === "start") hashes.set(key, createHash(m.algorithm));
    else if (m.op === "data") {
      hashes.get(key).update(new Uint8Array(m.buffer, 0, m.length));
      parentPort.postMessage({ op: "ack", id: m.id, slot: m.slot });
    } else if (m.op === "end") {
      const h = hashes.get(key);
      hashes.delete(key);
      const digest = h.digest(m.algorithm === "md5" ? "base64" : "hex");
      parentPort.postMessage({ op: "digest", id: m.id, algorithm: m.algorithm, digest });
    } else if (m.op === "drop") hashes.delete(key);
  } catch (e) {
    parentPort.postMessage({ op: "error", id: m.id, message: String((e && e.message) || e) });
  }
});`;

/** Bytes gathered before a slot goes to the workers: few messages per GiB, little memory per read. */
const SLOT_BYTES = 2 * 1024 * 1024;
/** Slots per read: one filling while the others are hashed. */
const SLOTS_PER_READ = 4;

type Algorithm = "sha256" | "md5";
type Reply =
  | { op: "ack"; id: number; slot: number }
  | { op: "digest"; id: number; algorithm: Algorithm; digest: string }
  | { op: "error"; id: number; message: string };

interface Session {
  onAck(slot: number): void;
  onDigest(algorithm: Algorithm, digest: string): void;
  onError(error: Error): void;
}

/**
 * SHA-256 and MD5 on worker threads, for `verify`: the main thread only receives bytes and copies
 * them into shared slots, while one worker hashes SHA-256 and another MD5 of the same slot at the
 * same time. On one thread both digests cost about as much CPU as receiving the bytes (about 2 s
 * per GiB here), which caps a read at what one core can do; spread over cores, a read goes at the
 * rate the storage delivers. Memory per read: SLOTS_PER_READ slots of 2 MiB, whatever the blob's size.
 * Call {@link close} when done, or the workers keep the process alive.
 */
export class HashPool {
  private readonly workers: Worker[];
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;
  private next = 0;
  private failure: Error | undefined;

  /** @param size - worker threads; two per concurrent read keeps SHA-256 and MD5 apart. @default 2 */
  constructor(size = 2) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.on("message", (reply: Reply) => this.dispatch(reply));
      worker.on("error", (e) => this.fail(e));
      return worker;
    });
  }

  /** A digest factory for readBackBlob. */
  readonly digest: StreamDigestFactory = () => this.session();

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const session of this.sessions.values()) session.onError(e);
  }

  private dispatch(reply: Reply): void {
    const session = this.sessions.get(reply.id);
    if (!session) return;
    if (reply.op === "ack") session.onAck(reply.slot);
    else if (reply.op === "digest") session.onDigest(reply.algorithm, reply.digest);
    else session.onError(new Error(`hash worker failed: ${reply.message}`));
  }

  private session(): StreamDigest {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const sha = this.workers[this.next++ % this.workers.length];
    const md5 = this.workers[this.next++ % this.workers.length];
    const slots = Array.from({ length: SLOTS_PER_READ }, () => new SharedArrayBuffer(SLOT_BYTES));
    const free: number[] = slots.map((_, i) => i);
    const pendingAcks = new Map<number, number>();
    let waiting: (() => void) | undefined;
    let filling: number | undefined;
    let filled = 0;
    const digests: { sha256?: string; md5?: string } = {};
    let finished: { resolve: (d: { sha256: string; md5: string }) => void; reject: (e: Error) => void } | undefined;
    let error: Error | undefined;
    const done = () => this.sessions.delete(id);
    this.sessions.set(id, {
      onAck: (slot) => {
        const left = (pendingAcks.get(slot) ?? 1) - 1;
        if (left > 0) return void pendingAcks.set(slot, left);
        pendingAcks.delete(slot);
        free.push(slot);
        waiting?.();
        waiting = undefined;
      },
      onDigest: (algorithm, digest) => {
        digests[algorithm] = digest;
        if (digests.sha256 !== undefined && digests.md5 !== undefined) {
          done();
          finished?.resolve({ sha256: digests.sha256, md5: digests.md5 });
        }
      },
      onError: (e) => {
        error ??= e;
        waiting?.();
        finished?.reject(e);
        done();
      },
    });
    sha.postMessage({ op: "start", id, algorithm: "sha256" });
    md5.postMessage({ op: "start", id, algorithm: "md5" });
    const send = (slot: number, length: number) => {
      pendingAcks.set(slot, 2);
      sha.postMessage({ op: "data", id, algorithm: "sha256", slot, buffer: slots[slot], length });
      md5.postMessage({ op: "data", id, algorithm: "md5", slot, buffer: slots[slot], length });
    };
    const takeSlot = async (): Promise<number> => {
      while (free.length === 0) {
        if (error) throw error;
        await new Promise<void>((resolve) => (waiting = resolve));
      }
      if (error) throw error;
      return free.shift() as number;
    };
    return {
      async update(chunk) {
        let at = 0;
        while (at < chunk.length) {
          if (filling === undefined) {
            filling = await takeSlot();
            filled = 0;
          }
          const n = Math.min(chunk.length - at, SLOT_BYTES - filled);
          new Uint8Array(slots[filling], filled, n).set(chunk.subarray(at, at + n));
          filled += n;
          at += n;
          if (filled === SLOT_BYTES) {
            send(filling, filled);
            filling = undefined;
          }
        }
      },
      finish() {
        if (error) return Promise.reject(error);
        if (filling !== undefined && filled > 0) send(filling, filled);
        filling = undefined;
        return new Promise((resolve, reject) => {
          finished = { resolve, reject };
          sha.postMessage({ op: "end", id, algorithm: "sha256" });
          md5.postMessage({ op: "end", id, algorithm: "md5" });
        });
      },
      abort() {
        sha.postMessage({ op: "drop", id, algorithm: "sha256" });
        md5.postMessage({ op: "drop", id, algorithm: "md5" });
        done();
      },
    };
  }
}
