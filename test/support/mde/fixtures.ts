/**
 * Wire fixtures from Microsoft's published examples, so the client and transformations are tested on
 * what MDE documents rather than on hand-written shapes. Each says where it comes from; the constant
 * names number the sources (000: an OpenAPI rendering of run-live-response, 001: the run-live-response
 * page, 003: the get-live-response-result page).
 */

/**
 * The `201 Created` documented by https://learn.microsoft.com/defender-endpoint/api/run-live-response, with the
 * entity an OpenAPI rendering of that page gives (not on the page itself); its action id, creation time and the
 * `lastUpdateTimeUtc` spelling match the examples of https://learn.microsoft.com/defender-endpoint/api/get-machineactions-collection.
 */
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

/** The OpenAPI rendering's short example answer, without machineId (not on Microsoft's page). */
export const SEED_000_SHORT_RESPONSE = {
  id: "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
  type: "LiveResponse",
  status: "InProgress",
};

/** The request example of https://learn.microsoft.com/defender-endpoint/api/run-live-response, verbatim. */
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

/** The response example of run-live-response (headed "HTTP/1.1 200 Ok"), with `lastUpdateDateTimeUtc` and `errorHResult`. */
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

/** The response example of https://learn.microsoft.com/defender-endpoint/api/get-live-response-result, verbatim; `value` is a blob SAS URL. */
export const SEED_003_DOWNLOAD_LINK = {
  "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Edm.String",
  value:
    "https://core.windows.net/investigation-actions-data/ID/CustomPlaybookCommandOutput/4ed5e7807ad1fe59b00b664fe06a0f07?se=2021-02-04T16%3A13%3A50Z&sp=r&sv=2019-07-07&sr=b&sig=1dYGe9rPvUlXBPvYSmr6/OLXPY98m8qWqfIQCBbyZTY%3D",
};

/** The signature of {@link SEED_003_DOWNLOAD_LINK}: must never reach a log or an error. */
export const SEED_003_SIGNATURE = "1dYGe9rPvUlXBPvYSmr6/OLXPY98m8qWqfIQCBbyZTY";

/** The action id of get-live-response-result's example and the machine id of run-live-response's, where a real-looking id is needed. */
export const SEED_003_ACTION_ID = "988cc94e-7a8f-4b28-ab65-54970c5d5018";
export const SEED_001_MACHINE_ID = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
