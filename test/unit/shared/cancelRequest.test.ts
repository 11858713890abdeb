import { cancelRequestFor, parseCancelBody, parseCancelRequest } from "../../../shared/cancelRequest";

const OID = "0b9c1d2e-3f40-4152-8a6b-7c8d9e0f1a2b";
const VALID = {
  requestedBy: `analyst@contoso.com (${OID})`,
  requestedByObjectId: OID,
  reason: "wrong device",
  requestedAt: "2026-03-02T10:00:00.000Z",
};

describe("parseCancelRequest (the orchestrator's check of the CancelCollection event)", () => {
  it("accepts exactly the event the cancel endpoint raises", () => {
    expect(parseCancelRequest(VALID)).toEqual(VALID);
    expect(parseCancelRequest({ ...VALID, requestedAt: "2026-03-02T10:00:00.1234567Z" })).toBeDefined();
  });

  it.each([
    ["not an object", "cancel"],
    ["null", null],
    ["an array", [VALID]],
    ["requestedBy as an object (became 'cancelled by [object Object]')", { ...VALID, requestedBy: { name: "x" } }],
    ["a missing requestedAt", { requestedBy: VALID.requestedBy, requestedByObjectId: OID, reason: "x" }],
    ["a missing requestedBy", { requestedByObjectId: OID, reason: "x", requestedAt: VALID.requestedAt }],
    ["the pre-authentication shape with an object", { requestedBy: { name: "x" }, reason: "x", requestedAt: VALID.requestedAt }],
    ["the pre-authentication shape plus a field", { requestedBy: "a", reason: "x", requestedAt: VALID.requestedAt, extra: 1 }],
    ["an extra field", { ...VALID, admin: true }],
    ["an empty requestedBy", { ...VALID, requestedBy: " " }],
    ["a requestedBy of 301 characters", { ...VALID, requestedBy: "x".repeat(301) }],
    ["a requestedBy with a bidi override", { ...VALID, requestedBy: "analyst\u202e@contoso.com" }],
    ["an object id that is not a GUID", { ...VALID, requestedByObjectId: "../admin" }],
    ["a reason of 501 characters", { ...VALID, reason: "x".repeat(501) }],
    ["a reason with a line break", { ...VALID, reason: "a\nb" }],
    ["a reason with a C1 control", { ...VALID, reason: "a\u0085b" }],
    ["a reason with U+2028", { ...VALID, reason: "a\u2028b" }],
    ["a reason with a lone surrogate", { ...VALID, reason: "a\ud800b" }],
    ["a reason as a number", { ...VALID, reason: 5 }],
    ["a requestedAt that is not an instant", { ...VALID, requestedAt: "yesterday" }],
    ["a requestedAt that is no date", { ...VALID, requestedAt: "2026-13-45T99:00:00Z" }],
  ])("refuses %s", (_what, data) => {
    expect(parseCancelRequest(data)).toBeUndefined();
  });
});

describe("parseCancelRequest and collections in flight across the upgrade", () => {
  it("accepts the event the endpoint raised before authentication (three strings), so a recorded history replays as a cancel", () => {
    const legacy = { requestedBy: "analyst@contoso.com", reason: "wrong device", requestedAt: "2026-03-02T22:35:20.000Z" };
    expect(parseCancelRequest(legacy)).toEqual(legacy);
  });

  it("makes its text one bounded line", () => {
    const parsed = parseCancelRequest({
      requestedBy: "ana\u202elyst\n".padEnd(1000, "x"),
      reason: "a\u2028b",
      requestedAt: "2026-03-02T22:35:20.000Z",
    });
    expect(parsed).toEqual({ requestedBy: expect.stringMatching(/^ana lyst x+$/), reason: "a b", requestedAt: "2026-03-02T22:35:20.000Z" });
    expect(parsed!.requestedBy.length).toBeLessThanOrEqual(300);
  });
});

describe("cancelRequestFor", () => {
  it("names the verified caller, and what it builds always passes the orchestrator's check, even for an unusual name", () => {
    const caller = { kind: "user" as const, objectId: OID, name: "ana\u202elyst\n@contoso.com".padEnd(400, "x"), roles: [] };
    const request = cancelRequestFor(caller, undefined, new Date("2026-03-02T10:00:00Z"));
    expect(request).toMatchObject({ requestedByObjectId: OID, reason: "no reason given", requestedAt: "2026-03-02T10:00:00.000Z" });
    expect(request.requestedBy.length).toBeLessThanOrEqual(300);
    expect(parseCancelRequest(request)).toEqual(request);
  });

  it("does not split a surrogate pair at the cut", () => {
    const caller = { kind: "user" as const, objectId: OID, name: `${"x".repeat(299)}😀tail`, roles: [] };
    const request = cancelRequestFor(caller, "r", new Date("2026-03-02T10:00:00Z"));
    expect(request.requestedBy).toBe("x".repeat(299));
    expect(parseCancelRequest(request)).toEqual(request);
  });
});

describe("parseCancelBody", () => {
  it("accepts {} and { reason }", () => {
    expect(parseCancelBody({})).toEqual({ ok: true, value: {} });
    expect(parseCancelBody({ reason: "wrong device" })).toEqual({ ok: true, value: { reason: "wrong device" } });
  });

  it("refuses every other field by name, escaped and cut, at most five named", () => {
    const result = parseCancelBody({ requestedBy: "x", ["evil\u202ename"]: 1, [`${"n".repeat(200)}`]: 1, a: 1, b: 1, c: 1, d: 1 });
    expect(result.ok).toBe(false);
    const problems = (result as { problems: { field: string }[] }).problems;
    expect(problems.map((p) => p.field)).toEqual(["requestedBy", "evil\\u202ename", `${"n".repeat(100)}…`, "a", "b", "(body)"]);
  });
});
