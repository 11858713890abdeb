import { parseTranscript, TRANSCRIPT_FIELD_MAX_CHARS } from "../../../../shared/evidence/transcript";

/**
 * The RunScript "File content" example of https://learn.microsoft.com/defender-endpoint/api/get-live-response-result,
 * as valid JSON (the page's rendering ends the output with three NUL characters and breaks a line inside a string).
 */
const SEED_TRANSCRIPT = JSON.stringify({
  script_name: "minidump.ps1",
  exit_code: 0,
  script_output:
    "Transcript started, output file is C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Temp\\PSScriptOutputs\\PSScript_Transcript_{TRANSCRIPT_ID}.txt\nC:\\windows\\TEMP\\OfficeClickToRun.dmp.zip\n51 MB",
  script_errors: "",
});

describe("parseTranscript", () => {
  it("reads the transcript of get-live-response-result's example", () => {
    const buf = Buffer.from(SEED_TRANSCRIPT);
    const r = parseTranscript(buf, buf.length);
    expect(r).toEqual({
      transcript: { script_name: "minidump.ps1", exit_code: 0, script_output: expect.stringContaining("51 MB"), script_errors: "" },
    });
  });

  it("reads the `name` spelling of older revisions of get-live-response-result's properties table and a UTF-8 BOM", () => {
    const buf = Buffer.from("\uFEFF" + JSON.stringify({ name: "a.ps1", exit_code: "3", script_output: "x" }));
    const r = parseTranscript(buf, buf.length);
    expect("transcript" in r && r.transcript).toMatchObject({ script_name: "a.ps1", exit_code: 3, script_errors: null });
  });

  it("truncates long outputs and says so", () => {
    const buf = Buffer.from(
      JSON.stringify({ script_name: "a", exit_code: 0, script_output: "o".repeat(TRANSCRIPT_FIELD_MAX_CHARS + 5), script_errors: "" }),
    );
    const r = parseTranscript(buf, buf.length);
    expect("transcript" in r && r.transcript.script_output?.length).toBe(TRANSCRIPT_FIELD_MAX_CHARS);
    expect("transcript" in r && r.transcript.truncated).toBe(true);
  });

  it("reports non-JSON and partially read results instead of throwing", () => {
    expect(parseTranscript(Buffer.from("not json"), 8)).toEqual({ error: expect.stringContaining("not JSON") });
    expect(parseTranscript(Buffer.from("{}"), 10)).toEqual({ error: expect.stringContaining("more than") });
  });
});
