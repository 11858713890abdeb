/**
 * The simulator's live response library, driven through the product's own MDE client (its multipart
 * upload included): GET/POST /api/libraryfiles (https://learn.microsoft.com/defender-endpoint/api/list-library-files,
 * https://learn.microsoft.com/defender-endpoint/api/upload-library), and a RunScript naming a file the library
 * does not hold.
 */
import { sha256Hex } from "../../../shared/library/libraryFiles";
import { StaticTokenCredential } from "../../../shared/mde/auth";
import { MdeClient } from "../../../shared/mde/client";
import { LIBRARY_UPLOAD_MAX_BYTES } from "../../../shared/mde/models";
import { machine, SECOND } from "../../support/machines";
import { getFile, runScript, startSimulator, stopSimulators } from "../../support/simulatorFixture";

afterEach(stopSimulators);

const clientFor = (baseUrl: string) =>
  new MdeClient(baseUrl, new StaticTokenCredential("t"), { allowedHosts: { hosts: [], allowLoopback: true }, sleep: async () => {} });

describe("the simulated live response library", () => {
  it("starts with the repository's library/ and the tests' stand-ins, and lists entities shaped like list-library-files'", async () => {
    const s = await startSimulator();
    const res = await s.call("GET", "/api/libraryfiles");
    expect(res.status).toBe(200);
    expect(res.json["@odata.context"]).toBe(`${s.baseUrl}/api/$metadata#LibraryFiles`);
    const names = (res.json.value as Array<{ fileName: string }>).map((f) => f.fileName);
    expect(names).toEqual(
      expect.arrayContaining(["Collect-TriagePackage.ps1", "minidump.ps1", "collect-triage.sh", "collect.ps1", "tool.exe"]),
    );
    expect(Object.keys(res.json.value[0])).toEqual([
      "fileName",
      "sha256",
      "description",
      "creationTime",
      "lastUpdatedTime",
      "createdBy",
      "hasParameters",
    ]);
  });

  it("takes a multipart upload, refuses the same name without OverrideIfExists, replaces it with it", async () => {
    const s = await startSimulator({ library: [] });
    const mde = clientFor(s.baseUrl);
    const first = await mde.uploadLibraryFile({
      fileName: "probe.ps1",
      content: Buffer.from("one"),
      description: "d",
      hasParameters: true,
      parametersDescription: "-X",
    });
    expect(first).toMatchObject({
      fileName: "probe.ps1",
      sha256: sha256Hex(Buffer.from("one")),
      description: "d",
      hasParameters: true,
      parametersDescription: "-X",
    });

    const again = mde.uploadLibraryFile({ fileName: "probe.ps1", content: Buffer.from("two") });
    await expect(again).rejects.toMatchObject({ statusCode: 400, code: "BadRequest" });
    expect((await mde.listLibraryFiles()).map((f) => f.sha256)).toEqual([sha256Hex(Buffer.from("one"))]);

    await mde.uploadLibraryFile({ fileName: "probe.ps1", content: Buffer.from("two"), overrideIfExists: true });
    expect(await mde.listLibraryFiles()).toEqual([
      expect.objectContaining({ fileName: "probe.ps1", sha256: sha256Hex(Buffer.from("two")) }),
    ]);
    expect(s.sim.stats().calls).toMatchObject({ uploadLibraryFile: 3, listLibraryFiles: 2 });
  });

  it("refuses bad names and files over 20 MB in MDE's error envelope; the client refuses them before sending", async () => {
    const s = await startSimulator({ library: [] });
    const form = (name: string, bytes: Uint8Array) => {
      const f = new FormData();
      f.append("file", new Blob([bytes]), name);
      return f;
    };
    const post = (body: FormData) =>
      fetch(`${s.baseUrl}/api/libraryfiles`, { method: "POST", headers: { Authorization: "Bearer t" }, body }).then(async (r) => ({
        status: r.status,
        json: (await r.json()) as { error: { code: string; message: string; target: string } },
      }));
    const badName = await post(form("a b.ps1", Buffer.from("x")));
    expect(badName).toMatchObject({ status: 400, json: { error: { code: "InvalidInput" } } });
    expect(badName.json.error.target).toMatch(/^[0-9a-f-]{36}$/);
    const big = await post(form("big.bin", new Uint8Array(LIBRARY_UPLOAD_MAX_BYTES + 1)));
    expect(big).toMatchObject({ status: 400, json: { error: { code: "BadRequest", message: "File max size limitation is 20MB" } } });
    const notMultipart = await s.call("POST", "/api/libraryfiles", { file: "x" });
    expect(notMultipart).toMatchObject({ status: 400, json: { error: { code: "InvalidRequestBody" } } });

    const mde = clientFor(s.baseUrl);
    await expect(mde.uploadLibraryFile({ fileName: "..", content: Buffer.from("x") })).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(
      mde.uploadLibraryFile({ fileName: "big.bin", content: new Uint8Array(LIBRARY_UPLOAD_MAX_BYTES + 1) }),
    ).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    expect(s.sim.stats().calls.uploadLibraryFile).toBe(3);
    expect(await mde.listLibraryFiles()).toEqual([]);
  });

  it("fails a RunScript naming a file the library does not hold: the command fails, later ones never run, the action ends Failed", async () => {
    const m = machine({ commandDurationMs: 10 * SECOND });
    const s = await startSimulator({ machines: [m], library: [] });
    const created = await s.call("POST", `/api/machines/${m.machineId}/runliveresponse`, {
      Commands: [runScript("absent.ps1"), getFile("C:\\a")],
    });
    expect(created.status).toBe(201);
    s.clock.advanceBy(20 * SECOND);
    const action = (await s.call("GET", `/api/machineactions/${created.json.id}`)).json;
    expect(action.status).toBe("Failed");
    expect(action.commands.map((c: { commandStatus: string }) => c.commandStatus)).toEqual(["Failed", "Created"]);
    expect(action.commands[0].errors).toEqual(["'absent.ps1' was not found in the live response library"]);
  });
});
