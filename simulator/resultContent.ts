import { createCipheriv, createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { RunScriptOutcome } from "./scenarios";

/**
 * What a command's result file holds. Pure and deterministic, so tests can recompute it.
 *
 * GetFile content: the AES-256-CTR keystream (IV all zeros) under the key
 * `SHA-256("mde-simulator/getfile\n" + machineId + "\n" + path + "\n" + size)`, truncated to `size`
 * bytes. Pseudo-random, so it neither compresses nor looks like anything; cheap to stream at any size.
 */
export function getFileContentKey(machineId: string, path: string, size: number): Buffer {
  return createHash("sha256").update(`mde-simulator/getfile\n${machineId}\n${path}\n${size}`, "utf8").digest();
}

const CHUNK = 1024 * 1024;

/** The uncompressed GetFile content as a stream (any size, constant memory). */
export function getFileContentStream(machineId: string, path: string, size: number): Readable {
  const cipher = createCipheriv("aes-256-ctr", getFileContentKey(machineId, path, size), Buffer.alloc(16));
  let remaining = size;
  return new Readable({
    read() {
      if (remaining === 0) return void this.push(null);
      const n = Math.min(CHUNK, remaining);
      remaining -= n;
      this.push(cipher.update(Buffer.alloc(n)));
    },
  });
}

/** The uncompressed GetFile content in memory (for tests and small files). */
export function getFileContent(machineId: string, path: string, size: number): Buffer {
  const cipher = createCipheriv("aes-256-ctr", getFileContentKey(machineId, path, size), Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

/** Default output when the scenario does not set one: shaped like the transcript example of get-live-response-result. */
export function defaultScriptOutput(actionId: string, scriptName: string, args: string | undefined): string {
  return (
    `Transcript started, output file is C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Temp\\PSScriptOutputs\\PSScript_Transcript_${actionId}.txt\n` +
    `${scriptName}${args ? ` ${args}` : ""} completed`
  );
}

/**
 * The RunScript result file: JSON with exactly `script_name`, `exit_code`, `script_output`,
 * `script_errors` ("Runscript transcript properties" of
 * https://learn.microsoft.com/defender-endpoint/api/get-live-response-result). Not compressed.
 */
export function runScriptTranscript(scriptName: string, outcome: RunScriptOutcome): Buffer {
  return Buffer.from(
    JSON.stringify({ script_name: scriptName, exit_code: outcome.exitCode, script_output: outcome.output, script_errors: outcome.errors }),
    "utf8",
  );
}
