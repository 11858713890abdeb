/**
 * The tenant's live response library: `GET /api/libraryfiles` (https://learn.microsoft.com/defender-endpoint/api/list-library-files)
 * and `POST /api/libraryfiles` (https://learn.microsoft.com/defender-endpoint/api/upload-library). Names are
 * compared case-insensitively (the library serves Windows devices, whose file names ignore case) and
 * keep the case they were uploaded with.
 */
import { createHash } from "node:crypto";
import { mdeTimestamp } from "./machineActions";
import { badRequest, SimulatorHttpError } from "./errors";

/** "File max size limitation is 20MB" (upload-library, "Limitations"), read as 20 MiB. */
export const LIBRARY_MAX_FILE_BYTES = 20 * 1024 * 1024;
/** Library file names: letters, digits, '-', '_', '.' (https://learn.microsoft.com/defender-endpoint/live-response). */
const LIBRARY_FILE_NAME = /^[A-Za-z0-9._-]+$/;

/** One file to put in the library when the simulator starts. */
export interface LibrarySeed {
  fileName: string;
  content: Uint8Array | string;
  description?: string;
}

interface StoredFile {
  fileName: string;
  sha256: string;
  description: string | null;
  creationTimeMs: number;
  lastUpdatedTimeMs: number;
  createdBy: string;
  hasParameters: boolean;
  parametersDescription: string | null;
}

/** A multipart form as the handler receives it. */
export interface UploadForm {
  file?: { name: string; bytes: Uint8Array };
  fields: Record<string, string>;
}

/** The library's state; every method is a pure state change at the given clock. */
export class LibraryStore {
  private readonly files = new Map<string, StoredFile>();

  constructor(
    private readonly clock: () => number,
    private readonly createdBy: string,
  ) {}

  /** Whether a file of that name (any case) is in the library. */
  has(fileName: string): boolean {
    return this.files.has(fileName.toLowerCase());
  }

  /** Puts (or replaces) a file without the API's checks: seeding and tests' out-of-band changes (the portal). */
  put(seed: LibrarySeed): Record<string, unknown> {
    const bytes = typeof seed.content === "string" ? Buffer.from(seed.content, "utf8") : seed.content;
    return this.store(seed.fileName, bytes, { Description: seed.description ?? "" });
  }

  /** GET /api/libraryfiles: the collection of library file entities, in upload order. */
  list(serviceRoot: string): { "@odata.context": string; value: Record<string, unknown>[] } {
    return { "@odata.context": `${serviceRoot}/$metadata#LibraryFiles`, value: [...this.files.values()].map(toWire) };
  }

  /**
   * POST /api/libraryfiles: 200 with the entity (upload-library, "Response"); 400 for a missing file, a bad
   * name, a file over 20 MB, or a name already taken without `OverrideIfExists=true` (upload-library:
   * "Bad request usually indicates incorrect body"; the exact messages are the simulator's).
   * @throws SimulatorHttpError 400
   */
  upload(form: UploadForm): Record<string, unknown> {
    const file = form.file;
    if (!file) throw badRequest("MissingRequiredParameter", "The form must hold a file (field 'file')");
    if (!LIBRARY_FILE_NAME.test(file.name) || /^\.+$/.test(file.name))
      throw badRequest("InvalidInput", `File name '${file.name.slice(0, 100)}' may hold only letters, digits, '-', '_' and '.'`);
    if (file.bytes.byteLength > LIBRARY_MAX_FILE_BYTES) throw badRequest("BadRequest", "File max size limitation is 20MB");
    const override = form.fields.OverrideIfExists;
    if (override !== undefined && !/^(true|false)?$/i.test(override))
      throw badRequest("InvalidInput", "OverrideIfExists must be true or false");
    if (this.has(file.name) && !/^true$/i.test(override ?? ""))
      throw badRequest("BadRequest", `File '${file.name}' already exists in the library; set OverrideIfExists to replace it`);
    return this.store(file.name, file.bytes, form.fields);
  }

  private store(fileName: string, bytes: Uint8Array, fields: Record<string, string>): Record<string, unknown> {
    const now = this.clock();
    const before = this.files.get(fileName.toLowerCase());
    const stored: StoredFile = {
      // A replaced file keeps its name's first spelling and its creation time, as a rename would not happen.
      fileName: before?.fileName ?? fileName,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      description: fields.Description ? fields.Description : null,
      creationTimeMs: before?.creationTimeMs ?? now,
      lastUpdatedTimeMs: now,
      createdBy: this.createdBy,
      hasParameters: /^true$/i.test(fields.HasParameters ?? ""),
      parametersDescription: fields.ParametersDescription ? fields.ParametersDescription : null,
    };
    this.files.set(fileName.toLowerCase(), stored);
    return toWire(stored);
  }
}

/** The entity with the fields of list-library-files' response example, in its order. */
function toWire(f: StoredFile): Record<string, unknown> {
  return {
    fileName: f.fileName,
    sha256: f.sha256,
    description: f.description,
    creationTime: mdeTimestamp(f.creationTimeMs),
    lastUpdatedTime: mdeTimestamp(f.lastUpdatedTimeMs),
    createdBy: f.createdBy,
    hasParameters: f.hasParameters,
    ...(f.parametersDescription !== null ? { parametersDescription: f.parametersDescription } : {}),
  };
}

/**
 * Parses a multipart/form-data body with the platform's own parser (undici's `Response.formData()`).
 * @throws SimulatorHttpError 400 InvalidRequestBody for another content type or a malformed body
 */
export async function parseUploadForm(contentType: string | undefined, bytes: Buffer): Promise<UploadForm> {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType))
    throw badRequest("InvalidRequestBody", "Content-Type must be multipart/form-data");
  let data: FormData;
  try {
    data = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw badRequest("InvalidRequestBody", "The multipart body could not be parsed");
  }
  const form: UploadForm = { fields: {} };
  for (const [name, value] of data.entries()) {
    if (typeof value === "string") form.fields[name] = value;
    // The documented example sends `file` (curl -F "file=@..."); its table says `File`.
    else if (name.toLowerCase() === "file") form.file = { name: value.name, bytes: new Uint8Array(await value.arrayBuffer()) };
  }
  return form;
}

/**
 * Reads a body of up to `maxBytes`; a longer one is drained (so the client gets an answer, not a reset) and refused.
 * @throws SimulatorHttpError 400 when the body is longer
 */
export async function readRawBody(req: AsyncIterable<unknown>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  if (size > maxBytes) throw new SimulatorHttpError(400, "BadRequest", "File max size limitation is 20MB");
  return Buffer.concat(chunks);
}
