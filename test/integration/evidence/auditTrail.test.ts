import { runVerify } from "../../../scripts/verifyCommand";
import { auditBlobName, auditRecordOf, blobAuditTrail, clientIpOf } from "../../../shared/evidence/auditTrail";
import type { VerifiedCaller } from "../../../shared/auth/caller";
import { freshEvidenceContainer, testAzurite } from "../../support/azurite";

const CALLER: VerifiedCaller = {
  kind: "user",
  objectId: "0b9c1d2e-3f40-4152-8a6b-7c8d9e0f1a2b",
  name: "analyst@contoso.com",
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  roles: ["Collector.Run"],
};
const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });

describe("the audit trail in append blobs", () => {
  it("appends one JSON line per request to the collection's hourly blob, and verify --audit prints them in order", async () => {
    const container = await freshEvidenceContainer("audit");
    const trail = blobAuditTrail(container, "liveresponse");
    const at = (iso: string) => new Date(iso);
    const base = { instanceId: "lr-abc", caller: CALLER, invocationId: "inv-1", headers: headers({ "x-forwarded-for": "198.51.100.4" }) };
    await trail.append(auditRecordOf({ ...base, action: "start", at: at("2026-03-02T09:00:00Z"), detail: "idempotency key INC-1" }));
    await trail.append(auditRecordOf({ ...base, action: "read", at: at("2026-03-02T09:05:00Z") }));
    await trail.append(auditRecordOf({ ...base, action: "cancel", at: at("2026-03-02T10:01:00Z"), detail: "wrong host" }));

    const blobs: { name: string; type?: string }[] = [];
    for await (const b of container.listBlobsFlat({ prefix: "liveresponse-audit/" }))
      blobs.push({ name: b.name, type: b.properties.blobType });
    expect(blobs).toEqual([
      { name: "liveresponse-audit/lr-abc/2026/03/02/09.jsonl", type: "AppendBlob" },
      { name: "liveresponse-audit/lr-abc/2026/03/02/10.jsonl", type: "AppendBlob" },
    ]);
    expect(auditBlobName("liveresponse", "lr-abc", at("2026-03-02T09:59:59Z"))).toBe(blobs[0]!.name);

    const out: string[] = [];
    const code = await runVerify(
      [
        "--connection-string",
        testAzurite.evidenceConnectionString,
        "--container",
        container.containerName,
        "--audit",
        "--instance",
        "lr-abc",
      ],
      {
        env: {},
        cwd: process.cwd(),
        out: (t) => out.push(t),
        err: () => {},
        stderrIsTerminal: false,
        credential: () => {
          throw new Error("no credential");
        },
      },
    );
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(
        /^2026-03-02T09:00:00.000Z {2}START .*analyst@contoso.com \(0b9c1d2e-.*198\.51\.100\.4 {2}idempotency key INC-1$/,
      ),
      expect.stringMatching(/^2026-03-02T09:05:00.000Z {2}READ /),
      expect.stringMatching(/^2026-03-02T10:01:00.000Z {2}CANCEL.*wrong host$/),
      "3 audit record(s) for lr-abc",
    ]);
  });

  it("keeps only a well-formed client address from X-Forwarded-For", () => {
    expect(clientIpOf("203.0.113.7:51234, 10.0.0.1")).toBe("203.0.113.7");
    expect(clientIpOf("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(clientIpOf("2001:db8::1")).toBe("2001:db8::1");
    expect(clientIpOf("evil\nline")).toBeUndefined();
    expect(clientIpOf(null)).toBeUndefined();
  });

  it("strips control characters from names and bounds free text", () => {
    const record = auditRecordOf({
      action: "cancel",
      instanceId: "i",
      caller: { ...CALLER, name: "a\u0000b\u202Ec" },
      headers: headers({}),
      invocationId: "inv",
      at: new Date("2026-03-02T09:00:00Z"),
      detail: "x".repeat(500),
    });
    expect(record.caller.name).toBe("a?b?c");
    expect(record.detail!.length).toBeLessThanOrEqual(201);
    expect(record.clientIp).toBeUndefined();
  });
});
