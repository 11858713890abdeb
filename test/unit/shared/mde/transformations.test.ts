import { CollectorError, MdeApiError } from "../../../../shared/errors";
import { parseRetryAfter, toMachineAction, toMdeApiError } from "../../../../shared/mde/transformations";
import {
  SEED_000_RUN_LIVE_RESPONSE_201,
  SEED_000_SHORT_RESPONSE,
  SEED_001_RESPONSE_200,
  SEED_003_SIGNATURE,
} from "../../../support/mde/fixtures";

const headers = (values: Record<string, string> = {}) => new Headers(values);

describe("toMachineAction", () => {
  it("maps the documented 201 entity, reading lastUpdateTimeUtc and flattening command.type/params", () => {
    expect(toMachineAction(SEED_000_RUN_LIVE_RESPONSE_201)).toEqual({
      id: "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
      type: "LiveResponse",
      status: "InProgress",
      machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
      computerDnsName: "desktop-test",
      requestor: "analyst@contoso.com",
      requestorComment: "Investigate suspicious activity",
      creationDateTimeUtc: "2018-12-04T12:18:27.1293487Z",
      lastUpdateDateTimeUtc: "2018-12-04T12:18:27.1293487Z",
      errorHResult: null,
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      commands: [
        {
          index: 0,
          type: "RunScript",
          params: [{ key: "ScriptName", value: "minidump.ps1" }],
          commandStatus: "Created",
          errors: [],
          startTime: null,
          endTime: null,
        },
      ],
    });
  });

  it("maps run-live-response's response example, reading lastUpdateDateTimeUtc and errorHResult", () => {
    const action = toMachineAction(SEED_001_RESPONSE_200);
    expect(action.lastUpdateDateTimeUtc).toBe("2021-02-04T15:36:52.7788848Z");
    expect(action.errorHResult).toBe(0);
    expect(action.status).toBe("Pending");
    expect(action.commands.map((c) => [c.index, c.type, c.params])).toEqual([
      [
        0,
        "RunScript",
        [
          { key: "ScriptName", value: "minidump.ps1" },
          { key: "Args", value: "OfficeClickToRun" },
        ],
      ],
      [1, "GetFile", [{ key: "Path", value: "C:\\windows\\TEMP\\OfficeClickToRun.dmp.zip" }]],
    ]);
  });

  it("prefers lastUpdateDateTimeUtc when both spellings are present", () => {
    const action = toMachineAction({ id: "a", status: "Pending", lastUpdateDateTimeUtc: "2", lastUpdateTimeUtc: "1" });
    expect(action.lastUpdateDateTimeUtc).toBe("2");
  });

  it("turns the short example answer (no machineId, no commands) into nulls and empties", () => {
    const action = toMachineAction(SEED_000_SHORT_RESPONSE);
    expect(action).toMatchObject({
      id: SEED_000_SHORT_RESPONSE.id,
      machineId: "",
      requestor: null,
      lastUpdateDateTimeUtc: null,
      commands: [],
    });
  });

  it("keeps unknown action and command statuses as strings", () => {
    const action = toMachineAction({
      id: "a",
      status: "Queued",
      commands: [{ index: 0, commandStatus: "Paused", command: { type: "GetFile", params: [] } }],
    });
    expect(action.status).toBe("Queued");
    expect(action.commands[0].commandStatus).toBe("Paused");
  });

  it("maps the cancellation fields seen in real captures", () => {
    const action = toMachineAction({
      id: "a",
      status: "Cancelled",
      cancellationRequestor: "app-id",
      cancellationComment: "deadline reached",
      cancellationDateTimeUtc: "2024-01-01T00:00:00Z",
      commands: [{ index: 0, commandStatus: "Failed", errors: ["Command was cancelled", { code: 5 }], command: { type: "GetFile" } }],
    });
    expect(action).toMatchObject({
      cancellationRequestor: "app-id",
      cancellationComment: "deadline reached",
      cancellationDateTimeUtc: "2024-01-01T00:00:00Z",
    });
    expect(action.commands[0]).toMatchObject({ params: [], errors: ["Command was cancelled", '{"code":5}'] });
  });

  it.each([
    ["no id", { status: "Pending" }],
    ["an empty id", { id: "", status: "Pending" }],
    ["no status", { id: "a" }],
    ["an array", [SEED_000_SHORT_RESPONSE]],
    ["null", null],
  ])("throws UnexpectedResponse for %s", (_, wire) => {
    expect(() => toMachineAction(wire)).toThrow(CollectorError);
    try {
      toMachineAction(wire);
    } catch (e) {
      expect((e as CollectorError).code).toBe("UnexpectedResponse");
    }
  });
});

describe("toMdeApiError", () => {
  it("reads code, message and target from MDE's error envelope", () => {
    const body = JSON.stringify({
      error: { code: "ActiveRequestAlreadyExists", message: "Action is already in progress", target: "c0ffee00-1234" },
    });
    const error = toMdeApiError(400, headers(), body);
    expect(error).toBeInstanceOf(MdeApiError);
    expect([error.statusCode, error.code, error.message, error.target, error.retryAfterInMs]).toEqual([
      400,
      "ActiveRequestAlreadyExists",
      "Action is already in progress",
      "c0ffee00-1234",
      undefined,
    ]);
  });

  it("gives a non-JSON body the code HttpError<status> and a short excerpt", () => {
    const error = toMdeApiError(500, headers(), "<html>\n  upstream connect error\n</html>");
    expect(error.code).toBe("HttpError500");
    expect(error.message).toBe("MDE answered HTTP 500: <html> upstream connect error </html>");
    expect(toMdeApiError(502, headers(), "").message).toBe("MDE answered HTTP 502");
    expect(toMdeApiError(404, headers(), '{"message":"not the envelope"}').code).toBe("HttpError404");
  });

  it("reads Retry-After in seconds and as an HTTP-date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(toMdeApiError(429, headers({ "Retry-After": "17" }), "", now).retryAfterInMs).toBe(17_000);
    expect(toMdeApiError(429, headers({ "Retry-After": "Wed, 01 Jan 2025 00:01:30 GMT" }), "", now).retryAfterInMs).toBe(90_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("redacts bearer tokens and SAS queries echoed in a message", () => {
    const message = `Bearer eyJ0eXAi.secret.token failed for https://x.blob.core.windows.net/c/b?sig=${SEED_003_SIGNATURE}`;
    const error = toMdeApiError(403, headers(), JSON.stringify({ error: { code: "Forbidden", message } }));
    expect(error.message).not.toContain("eyJ0eXAi");
    expect(error.message).not.toContain(SEED_003_SIGNATURE);
    expect(error.message).toContain("https://x.blob.core.windows.net/c/b");
  });
});
