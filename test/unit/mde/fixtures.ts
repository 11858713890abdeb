/**
 * Wire fixtures copied verbatim from Microsoft's published examples (shared/seeds), so the client
 * and transformations are tested on what MDE documents rather than on hand-written shapes.
 */

/** Seed 000 (run-live-response.md, OpenAPI form): the "201 Success" entity, with `lastUpdateTimeUtc`. */
export const SEED_000_RUN_LIVE_RESPONSE_201 = {
  "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#MachineActions/$entity",
  id: "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
  type: "LiveResponse",
  requestor: "analyst@contoso.com",
  requestorComment: "Investigate suspicious activity",
  status: "InProgress",
  machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
  computerDnsName: "desktop-test",
  creationDateTimeUtc: "2018-12-04T12:18:27.1293487Z",
  lastUpdateTimeUtc: "2018-12-04T12:18:27.1293487Z",
  relatedFileInfo: null,
  commands: [
    {
      index: 0,
      startTime: null,
      endTime: null,
      commandStatus: "Created",
      errors: [],
      command: { type: "RunScript", params: [{ key: "ScriptName", value: "minidump.ps1" }] },
    },
  ],
};

/** Seed 000, the "Example" section: the short response, without machineId. */
export const SEED_000_SHORT_RESPONSE = {
  id: "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
  type: "LiveResponse",
  status: "InProgress",
};

/** Seed 001 (run-live-response.md, docs page): the request example's commands. */
export const SEED_001_REQUEST = {
  Commands: [
    {
      type: "RunScript",
      params: [
        { key: "ScriptName", value: "minidump.ps1" },
        { key: "Args", value: "OfficeClickToRun" },
      ],
    },
    { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
  ],
  Comment: "Testing Live Response API",
};

/** Seed 001: the response example (answered "HTTP/1.1 200 Ok"), with `lastUpdateDateTimeUtc` and `errorHResult`. */
export const SEED_001_RESPONSE_200 = {
  "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#MachineActions/$entity",
  id: "{machine_action_id}",
  type: "LiveResponse",
  requestor: "analyst@microsoft.com",
  requestorComment: "Testing Live Response API",
  status: "Pending",
  machineId: "{machine_id}",
  computerDnsName: "hostname",
  creationDateTimeUtc: "2021-02-04T15:36:52.7788848Z",
  lastUpdateDateTimeUtc: "2021-02-04T15:36:52.7788848Z",
  errorHResult: 0,
  commands: [
    {
      index: 0,
      startTime: null,
      endTime: null,
      commandStatus: "Created",
      errors: [],
      command: {
        type: "RunScript",
        params: [
          { key: "ScriptName", value: "minidump.ps1" },
          { key: "Args", value: "OfficeClickToRun" },
        ],
      },
    },
    {
      index: 1,
      startTime: null,
      endTime: null,
      commandStatus: "Created",
      errors: [],
      command: { type: "GetFile", params: [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }] },
    },
  ],
};

/** Seed 003 (get-live-response-result.md, OpenAPI form): the example answer; `value` is a blob SAS URL. */
export const SEED_003_DOWNLOAD_LINK = {
  "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Edm.String",
  value:
    "https://core.windows.net/investigation-actions-data/ID/CustomPlaybookCommandOutput/4ed5e7807ad1fe59b00b664fe06a0f07?se=2021-02-04T16%3A13%3A50Z&sp=r&sv=2019-07-07&sr=b&sig=1dYGe9rPvUlXBPvYSmr6/OLXPY98m8qWqfIQCBbyZTY%3D",
};

/** The signature of {@link SEED_003_DOWNLOAD_LINK}: must never reach a log or an error. */
export const SEED_003_SIGNATURE = "1dYGe9rPvUlXBPvYSmr6/OLXPY98m8qWqfIQCBbyZTY";

/** The seed 003 action id and the seed 001 machine id, used where a real-looking id is needed. */
export const SEED_003_ACTION_ID = "988cc94e-7a8f-4b28-ab65-54970c5d5018";
export const SEED_001_MACHINE_ID = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
