import { CollectorError, MdeApiError } from "../../../shared/errors";
import { activityFailureMessage, describeFailure, MAX_PUBLIC_MESSAGE_LENGTH, publicMessage } from "../../../shared/publicMessage";

describe("publicMessage", () => {
  it("drops a stack trace, real or inside a JSON string", () => {
    const error = new Error("Token expired");
    expect(publicMessage(error.stack!)).toBe("Error: Token expired");
    expect(publicMessage(JSON.stringify({ Message: "Token expired", StackTrace: error.stack }))).toBe(
      '{"Message":"Token expired","StackTrace":"Error: Token expired',
    );
  });

  it.each([
    [
      "a Linux App Service path",
      "ENOENT: no such file or directory, open '/home/site/wwwroot/dist/app.js'",
      "ENOENT: no such file or directory, open '<path>'",
    ],
    ["a Windows App Service path", "cannot read C:\\home\\site\\wwwroot\\host.json now", "cannot read <path> now"],
    ["a frame without its 'at'", "failed in (/work/main/shared/mde/client.ts:12:5)", "failed in (<path>)"],
    ["a file URL", "import of file:///srv/app/dist/index.mjs failed", "import of <path> failed"],
    ["a Node internal", "from node:internal/process/task_queues:95", "from <path>"],
    ["a source file in a relative-looking place", "see D:\\a\\_work\\1\\s\\src\\Shim.js:10", "see <path>"],
  ])("replaces %s with <path>", (_what, text, expected) => {
    expect(publicMessage(text)).toBe(expected);
  });

  it.each([
    ["MDE API paths", "MDE did not answer GET /api/machineactions/abc within 30000 ms"],
    ["blob names", "Blob liveresponse/f70f/2e9d/1-GetFile-test.txt was reported to exist"],
    ["a device path in MDE's message", "File C:\\temp\\test.txt was not found"],
    ["URLs", "Download failed: HTTP 500 from https://acct.blob.core.windows.net/c/home/x"],
  ])("keeps %s", (_what, text) => {
    expect(publicMessage(text)).toBe(text);
  });

  it("makes one line: no control, line-separator or bidi characters, whitespace collapsed", () => {
    expect(publicMessage("a\r\n b\u0085c\u2028d\u2029e\u202ef\u2066g\u0007h\t\ti ")).toBe("a b c d e f g h i");
  });

  it("redacts SAS queries and bearer tokens", () => {
    expect(publicMessage("GET https://a.blob.core.windows.net/c/b?sv=1&sig=SECRET failed with Bearer eyJ0.abc")).toBe(
      "GET https://a.blob.core.windows.net/c/b?<redacted> failed with Bearer <redacted>",
    );
  });

  it("bounds the length, ending a cut message with an ellipsis", () => {
    expect(publicMessage("x".repeat(10_000))).toHaveLength(MAX_PUBLIC_MESSAGE_LENGTH);
    expect(publicMessage("x".repeat(10_000)).endsWith("…")).toBe(true);
    expect(publicMessage("abcdef", 4)).toBe("abc…");
    expect(publicMessage("abc", 4)).toBe("abc");
  });
});

describe("describeFailure", () => {
  it("names MDE's code, HTTP status and correlation id", () => {
    expect(describeFailure(new MdeApiError({ statusCode: 503, code: "ServiceUnavailable", message: "try later", target: "corr-1" }))).toBe(
      "MDE ServiceUnavailable (HTTP 503): try later; correlation id corr-1",
    );
    expect(describeFailure(new MdeApiError({ code: "RequestTimeout", message: "no answer" }))).toBe("MDE RequestTimeout: no answer");
  });

  it("keeps the correlation id when MDE's message is too long", () => {
    const text = describeFailure(
      new MdeApiError({ statusCode: 500, code: "InternalServerError", message: "m".repeat(5000), target: "corr-2" }),
    );
    expect(text.length).toBeLessThanOrEqual(MAX_PUBLIC_MESSAGE_LENGTH);
    expect(text.endsWith("…; correlation id corr-2")).toBe(true);
  });

  it("names a collector error's code, another error's code or name, and takes any thrown value", () => {
    expect(describeFailure(new CollectorError("DownloadFailed", "gave up"))).toBe("DownloadFailed: gave up");
    expect(
      describeFailure(Object.assign(new Error("The specified blob does not exist.\nRequestId:1\nTime:2"), { code: "BlobNotFound" })),
    ).toBe("BlobNotFound: The specified blob does not exist. RequestId:1 Time:2");
    expect(describeFailure(new TypeError("x is not a function"))).toBe("TypeError: x is not a function");
    expect(describeFailure(new Error("plain"))).toBe("plain");
    expect(describeFailure("a string")).toBe("a string");
  });
});

describe("activityFailureMessage", () => {
  it("keeps the activity's message from durable-functions' `Reason \\n Details` error, without the details' stack", () => {
    const details = JSON.stringify({
      Message: "m",
      StackTrace: "Error: m\n    at getMachineAction (/home/site/wwwroot/dist/activities/getMachineAction.js:9:28)",
    });
    const failure = new Error(
      `Activity function 'getMachineAction' failed: MDE ServiceUnavailable (HTTP 503): try later; correlation id c-1 \n ${details}`,
    );
    expect(activityFailureMessage(failure)).toBe("MDE ServiceUnavailable (HTTP 503): try later; correlation id c-1");
  });

  it("takes a message string, and makes even a raw multi-line one public", () => {
    expect(activityFailureMessage("The function 'x' doesn't exist")).toBe("The function 'x' doesn't exist");
    expect(activityFailureMessage(`failed at /home/site/wwwroot/x.js:1 ${"y".repeat(600)}`)).toHaveLength(500);
  });
});
