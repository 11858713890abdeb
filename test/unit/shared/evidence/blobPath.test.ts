import { baseName, evidenceBlobName, manifestBlobName, MAX_SEGMENT_LENGTH, sanitizeSegment } from "../../../../shared/evidence/blobPath";

const ids = { machineId: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", actionId: "7f1e53a6-4c9f-4b5e-9d1c-2b8f0c3a9e11" };

describe("evidenceBlobName", () => {
  it("uses the base name of a Windows GetFile path", () => {
    expect(evidenceBlobName({ prefix: "evidence", ...ids, index: 2, type: "GetFile", name: "C:\\Windows\\Temp\\evil.exe" })).toBe(
      `evidence/${ids.machineId}/${ids.actionId}/2-GetFile-evil.exe`,
    );
  });

  it("uses the base name of a POSIX GetFile path", () => {
    expect(evidenceBlobName({ prefix: "evidence", ...ids, index: 0, type: "GetFile", name: "/var/log/auth.log" })).toBe(
      `evidence/${ids.machineId}/${ids.actionId}/0-GetFile-auth.log`,
    );
  });

  it("uses a script name as it is", () => {
    expect(evidenceBlobName({ prefix: "p", ...ids, index: 1, type: "RunScript", name: "collect_triage-v2.ps1" })).toBe(
      `p/${ids.machineId}/${ids.actionId}/1-RunScript-collect_triage-v2.ps1`,
    );
  });

  it("replaces every unsafe character, one per code point", () => {
    expect(evidenceBlobName({ prefix: "", ...ids, index: 3, type: "GetFile", name: 'C:\\Users\\zoë\\rapport final?*<>|"🙂.docx' })).toBe(
      `${ids.machineId}/${ids.actionId}/3-GetFile-rapport_final_______.docx`,
    );
  });

  it("has no leading slash with an empty prefix and keeps a nested prefix", () => {
    expect(manifestBlobName({ prefix: "", ...ids })).toBe(`${ids.machineId}/${ids.actionId}/manifest.json`);
    expect(manifestBlobName({ prefix: "/cases/2026/", ...ids })).toBe(`cases/2026/${ids.machineId}/${ids.actionId}/manifest.json`);
  });

  it("cannot be steered out of the action folder by dot segments or separators in ids", () => {
    const name = evidenceBlobName({ prefix: "../x", machineId: "..", actionId: "a/../b", index: 0, type: "GetFile", name: "C:\\dir\\.." });
    expect(name.split("/")).not.toContain("..");
    expect(name).toBe("__/x/__/a_.._b/0-GetFile-__");
  });

  it("never yields an empty name", () => {
    expect(evidenceBlobName({ prefix: "", ...ids, index: 0, type: "GetFile", name: "\\\\" })).toMatch(/\/0-GetFile-unnamed$/);
    expect(evidenceBlobName({ prefix: "", ...ids, index: 0, type: "GetFile", name: "C:\\" })).toMatch(/\/0-GetFile-C_$/);
    expect(evidenceBlobName({ prefix: "", ...ids, index: 0, type: "", name: "" })).toMatch(/\/0-unnamed-unnamed$/);
  });

  it("bounds long names and keeps their extension", () => {
    const long = `${"a".repeat(500)}.evtx`;
    const last = evidenceBlobName({ prefix: "", ...ids, index: 4, type: "GetFile", name: `D:\\logs\\${long}` })
      .split("/")
      .pop() as string;
    expect(last).toBe(`4-GetFile-${"a".repeat(MAX_SEGMENT_LENGTH - 5)}.evtx`);
  });

  it("refuses a negative or fractional index", () => {
    expect(() => evidenceBlobName({ prefix: "", ...ids, index: -1, type: "GetFile", name: "a" })).toThrow(RangeError);
    expect(() => evidenceBlobName({ prefix: "", ...ids, index: 1.5, type: "GetFile", name: "a" })).toThrow(RangeError);
  });
});

describe("baseName and sanitizeSegment", () => {
  it("takes the last segment of mixed separators", () => {
    expect(baseName("C:/Users\\bob/Desktop\\notes.txt")).toBe("notes.txt");
    expect(baseName("\\\\server\\share\\file.bin")).toBe("file.bin");
    expect(baseName("/")).toBe("");
  });

  it("neutralises dot-only names", () => {
    expect(sanitizeSegment(".")).toBe("_");
    expect(sanitizeSegment("...")).toBe("___");
    expect(sanitizeSegment(".bashrc")).toBe(".bashrc");
  });

  it("truncates a long name without a usable extension", () => {
    expect(sanitizeSegment("b".repeat(300))).toHaveLength(MAX_SEGMENT_LENGTH);
  });
});
