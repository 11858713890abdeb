import { MessageChannel, Worker } from "node:worker_threads";
import type { StreamDigest, StreamDigestFactory } from "../streamDigest";

/**
 * The worker's code, inline so it runs the same from the TypeScript sources (tests) and the build.
 *
 * Each read (session) has its own channels: the SHA-256 worker hashes each slot from the main
 * thread, then transfers it to the MD5 worker, which hashes it and transfers it back to the main
 * thread for reuse. Transfers move an ArrayBuffer between threads without copying
 * it (https://nodejs.org/docs/latest-v22.x/api/worker_threads.html#portpostmessagevalue-transferlist),
 * and messages on one port arrive in the order sent, so both workers see the bytes in order and
 * the end of a session reaches the second worker after its last slot.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
function serve({ id, algorithm, input, output }) {
  const hash = createHash(algorithm);
  // Closing a port closes its channel; the next worker closes its own input once it has the end.
  const close = () => input.close();
  input.on("message", (m) => {
    try {
      if (m.op === "data") {
        hash.update(new Uint8Array(m.buffer, 0, m.length));
        if (output) output.postMessage(m, [m.buffer]);
        else parentPort.postMessage({ op: "ack", id, buffer: m.buffer }, [m.buffer]);
      } else if (m.op === "end") {
        parentPort.postMessage({ op: "digest", id, algorithm, digest: hash.digest(algorithm === "md5" ? "base64" : "hex") });
        if (output) output.postMessage(m);
        close();
      } else if (m.op === "drop") {
        if (output) output.postMessage(m);
        close();
      }
    } catch (e) {
      parentPort.postMessage({ op: "error", id, message: String((e && e.message) || e) });
      if (output) output.postMessage({ op: "drop" });
      close();
    }
  });
}
parentPort.on("message", (m) => {
  if (m.op === "start") serve(m);
});`;

/** Bytes gathered before a slot goes to the workers: few messages per GiB, little memory per read. */
const SLOT_BYTES = 2 * 1024 * 1024;
/** Slots per read: one filling while the others are on their way through the two workers. */
const SLOTS_PER_READ = 4;

type Algorithm = "sha256" | "md5";
type Reply =
  | { op: "ack"; id: number; buffer: ArrayBuffer }
  | { op: "digest"; id: number; algorithm: Algorithm; digest: string }
  | { op: "error"; id: number; message: string };

interface Session {
  onAck(buffer: ArrayBuffer): void;
  onDigest(algorithm: Algorithm, digest: string): void;
  onError(error: Error): void;
}

/**
 * SHA-256 and MD5 on worker threads, for `verify`: the main thread only receives bytes and copies
 * them into a few slots of its own, while one worker hashes SHA-256 and another MD5 of them. On one
 * thread both digests cost about as much CPU as receiving the bytes (about 2.5 s per GiB here),
 * which caps a read at what one core can do; spread over cores, a read goes at the rate the storage
 * delivers.
 *
 * A slot is an ordinary ArrayBuffer that travels main thread -> SHA-256 worker -> MD5 worker ->
 * main thread by transfer, so the bytes are copied once (off the stream's chunk, which the stream
 * may reuse) and never again. Taking a chunk is synchronous while a slot is free, so the read
 * awaits nothing per chunk. (An earlier version shared SharedArrayBuffer slots with both workers at
 * once, acknowledged each slot twice and returned a promise per chunk: its main thread spent about
 * 0.9 CPU-s per GiB more than a plain read, this one about 0.4, measured beside Azurite on two
 * cores, where that CPU is taken from the storage service and the hashing.)
 *
 * Memory per read: SLOTS_PER_READ slots of SLOT_BYTES, whatever the blob's size. Call {@link close}
 * when done, or the workers keep the process alive.
 */
export class HashPool {
  private readonly workers: Worker[];
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;
  private next = 0;
  private failure: Error | undefined;
  private closing = false;

  /** @param size - worker threads; two per concurrent read keeps SHA-256 and MD5 apart. @default 2 */
  constructor(size = 2) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.on("message", (reply: Reply) => this.dispatch(reply));
      worker.on("error", (e) => this.fail(e));
      // A worker gone for any other reason than close() would leave its reads waiting for slots forever.
      worker.on("exit", (code) => {
        if (!this.closing) this.fail(new Error(`hash worker exited with code ${code}`));
      });
      return worker;
    });
  }

  /** A digest factory for readBackBlob. */
  readonly digest: StreamDigestFactory = () => this.session();

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const session of this.sessions.values()) session.onError(e);
  }

  private dispatch(reply: Reply): void {
    const session = this.sessions.get(reply.id);
    if (!session) return;
    if (reply.op === "ack") session.onAck(reply.buffer);
    else if (reply.op === "digest") session.onDigest(reply.algorithm, reply.digest);
    else session.onError(new Error(`hash worker failed: ${reply.message}`));
  }

  private session(): StreamDigest {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const sha = this.workers[this.next++ % this.workers.length];
    const md5 = this.workers[this.next++ % this.workers.length];
    // Main thread -> SHA-256 worker (`toFirst`), SHA-256 worker -> MD5 worker (`between`).
    const toFirst = new MessageChannel();
    const between = new MessageChannel();
    const free: ArrayBuffer[] = Array.from({ length: SLOTS_PER_READ }, () => new ArrayBuffer(SLOT_BYTES));
    let waiting: (() => void) | undefined;
    let slot: Buffer | undefined;
    let filled = 0;
    const digests: { sha256?: string; md5?: string } = {};
    let finished: { resolve: (d: { sha256: string; md5: string }) => void; reject: (e: Error) => void } | undefined;
    let error: Error | undefined;
    // The workers close the session's channels once they have its end (or drop, or an error).
    const done = () => this.sessions.delete(id);
    const wake = () => {
      const resolve = waiting;
      waiting = undefined;
      resolve?.();
    };
    this.sessions.set(id, {
      onAck: (buffer) => {
        free.push(buffer);
        wake();
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
        wake();
        finished?.reject(e);
        done();
      },
    });
    sha.postMessage({ op: "start", id, algorithm: "sha256", input: toFirst.port2, output: between.port1 }, [toFirst.port2, between.port1]);
    md5.postMessage({ op: "start", id, algorithm: "md5", input: between.port2 }, [between.port2]);
    const send = () => {
      const buffer = (slot as Buffer).buffer as ArrayBuffer;
      toFirst.port1.postMessage({ op: "data", buffer, length: filled }, [buffer]);
      slot = undefined;
    };
    /** Copies `chunk` from `at` into slots; returns where it stopped for want of a free slot (chunk.length when all is taken). */
    const take = (chunk: Buffer, at: number): number => {
      while (at < chunk.length) {
        if (slot === undefined) {
          const buffer = free.pop();
          if (buffer === undefined) return at;
          slot = Buffer.from(buffer);
          filled = 0;
        }
        const n = chunk.copy(slot, filled, at, Math.min(chunk.length, at + SLOT_BYTES - filled));
        filled += n;
        at += n;
        if (filled === SLOT_BYTES) send();
      }
      return at;
    };
    const rest = async (chunk: Buffer, at: number): Promise<void> => {
      while (at < chunk.length) {
        await new Promise<void>((resolve) => (waiting = resolve));
        if (error) throw error;
        at = take(chunk, at);
      }
    };
    return {
      // Synchronous while a slot is free: no promise per chunk of the stream.
      update(chunk) {
        if (error) throw error;
        const at = take(chunk, 0);
        return at < chunk.length ? rest(chunk, at) : undefined;
      },
      finish() {
        if (error) return Promise.reject(error);
        if (slot !== undefined && filled > 0) send();
        slot = undefined;
        return new Promise((resolve, reject) => {
          finished = { resolve, reject };
          toFirst.port1.postMessage({ op: "end" });
        });
      },
      abort() {
        toFirst.port1.postMessage({ op: "drop" });
        done();
      },
    };
  }
}
