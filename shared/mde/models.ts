/**
 * The MDE live response models the product works with, mapped from wire JSON by
 * `transformations.ts`. Sources: https://learn.microsoft.com/defender-endpoint/api/run-live-response,
 * https://learn.microsoft.com/defender-endpoint/api/get-live-response-result and the MachineAction entity page
 * (https://learn.microsoft.com/defender-endpoint/api/machineaction).
 */

export const LIVE_RESPONSE_COMMAND_TYPES = ["PutFile", "RunScript", "GetFile"] as const;
export type LiveResponseCommandType = (typeof LIVE_RESPONSE_COMMAND_TYPES)[number];

/** One `{ key, value }` pair, exactly as MDE's `params` (names are case-sensitive on the wire). */
export interface LiveResponseParam {
  key: string;
  value: string;
}

/** One command, exactly the shape of an element of MDE's `Commands`. */
export interface LiveResponseCommand {
  type: LiveResponseCommandType;
  params: LiveResponseParam[];
}

export interface LiveResponseRequest {
  commands: LiveResponseCommand[];
  comment: string;
}

/** Action statuses documented for MachineAction; MDE may add others, which are kept as strings. */
export const MACHINE_ACTION_STATUSES = ["Pending", "InProgress", "Succeeded", "Failed", "TimeOut", "Cancelled"] as const;
export type KnownMachineActionStatus = (typeof MACHINE_ACTION_STATUSES)[number];
export type MachineActionStatus = KnownMachineActionStatus | (string & {});

export const FINAL_ACTION_STATUSES: readonly MachineActionStatus[] = ["Succeeded", "Failed", "TimeOut", "Cancelled"];

/** Command statuses: a different set from action statuses. Unknown values mean "still running". */
export const COMMAND_STATUSES = ["Created", "InProgress", "Completed", "Failed"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number] | (string & {});

export interface CommandState {
  index: number;
  type: LiveResponseCommandType | (string & {});
  params: LiveResponseParam[];
  commandStatus: CommandStatus;
  errors: string[];
  startTime: string | null;
  endTime: string | null;
}

export interface MachineAction {
  id: string;
  type: string;
  status: MachineActionStatus;
  machineId: string;
  computerDnsName: string | null;
  requestor: string | null;
  requestorComment: string | null;
  creationDateTimeUtc: string | null;
  /** `lastUpdateDateTimeUtc` on the entity page, `lastUpdateTimeUtc` in one example: both accepted. */
  lastUpdateDateTimeUtc: string | null;
  errorHResult: number | null;
  cancellationRequestor: string | null;
  cancellationComment: string | null;
  cancellationDateTimeUtc: string | null;
  commands: CommandState[];
}

/** The RunScript result file (https://learn.microsoft.com/defender-endpoint/api/get-live-response-result, "Runscript transcript properties"). */
export interface RunScriptTranscript {
  script_name: string | null;
  exit_code: number | null;
  script_output: string | null;
  script_errors: string | null;
}

export function isFinalActionStatus(status: MachineActionStatus): boolean {
  return FINAL_ACTION_STATUSES.includes(status);
}

/**
 * A device as `GET /api/machines` lists it (the fields the collector reads; MDE sends more).
 * `healthStatus`: Active, Inactive, ImpairedCommunication, NoSensorData, NoSensorDataImpairedCommunication, Unknown.
 */
export interface Machine {
  id: string;
  computerDnsName: string | null;
  osPlatform: string | null;
  healthStatus: string | null;
  machineTags: string[];
  lastSeen: string | null;
  riskScore: string | null;
  exposureLevel: string | null;
  rbacGroupId: number | null;
  aadDeviceId: string | null;
}

/** Machine ids are 40 hexadecimal characters (SHA-1 shaped). */
export const MACHINE_ID_PATTERN = /^[0-9a-fA-F]{40}$/;

/** Library file names (ScriptName, FileName): letters, digits, '-', '_', '.'. */
export const LIBRARY_FILE_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/**
 * A live response library file as `GET /api/libraryfiles` lists it and `POST /api/libraryfiles` returns it
 * (https://learn.microsoft.com/defender-endpoint/api/list-library-files, .../upload-library).
 */
export interface LibraryFile {
  fileName: string;
  /** Lowercase hex SHA-256 of the file's bytes (MDE's example is lowercase; mapped to lowercase whatever MDE sends). */
  sha256: string;
  description: string | null;
  creationTime: string | null;
  lastUpdatedTime: string | null;
  createdBy: string | null;
  hasParameters: boolean;
  parametersDescription: string | null;
}

/** What `POST /api/libraryfiles` takes, as form fields (https://learn.microsoft.com/defender-endpoint/api/upload-library). */
export interface LibraryUpload {
  fileName: string;
  content: Uint8Array;
  description?: string;
  hasParameters?: boolean;
  parametersDescription?: string;
  /** Replace a file of the same name; without it MDE refuses a name already in the library. @default false */
  overrideIfExists?: boolean;
}

/** Largest file `POST /api/libraryfiles` accepts: "File max size limitation is 20MB" (upload-library, "Limitations"). */
export const LIBRARY_UPLOAD_MAX_BYTES = 20 * 1024 * 1024;
