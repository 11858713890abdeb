/**
 * The simulator's Graph `GET /v1.0/security/alerts_v2` (https://learn.microsoft.com/graph/api/security-list-alerts_v2):
 * `$filter` on lastUpdateDateTime / createdDateTime (ge, gt, le, lt, eq) joined by `and`, 400 `BadRequest` for
 * what it cannot read (https://learn.microsoft.com/graph/errors), `$top` bounds, `$count`, and `@odata.nextLink`
 * paging by `$skiptoken`; and the test hooks the poller's tests use.
 */
import { alertsV2Hooks, editGraphAlert, listAlertsV2, resetAlertsV2Hooks } from "../../../simulator/alertsV2";
import { MDE_ALERT } from "../../support/fixtures/alerts/mdeAlert";

const ctx = { serviceRoot: "http://127.0.0.1:7072/api" };
const NOW = Date.parse("2026-03-02T12:00:00Z");
/** MDE alerts (the docs' example, fixtures/alerts/mdeAlert.ts) at the given lastUpdateTime. */
const mde = (id: string, lastUpdateTime: string, alertCreationTime = lastUpdateTime) => ({
  ...MDE_ALERT,
  id,
  alertCreationTime,
  lastUpdateTime,
});
const STORED = [
  mde("a1", "2026-03-02T10:00:00Z"),
  mde("a2", "2026-03-02T10:30:00.1234567Z"),
  mde("a3", "2026-03-02T11:00:00Z", "2026-03-02T09:00:00Z"),
];

type Body = { value: { id: string; lastUpdateDateTime: string }[]; "@odata.nextLink"?: string; "@odata.count"?: number };
function list(query: string, stored: Record<string, unknown>[] = STORED, owner: object = {}): Body {
  return listAlertsV2(owner, stored, new URLSearchParams(query), ctx, NOW).body as Body;
}
const ids = (query: string) => list(query).value.map((a) => a.id);
const mdeOnly = "serviceSource eq 'microsoftDefenderForEndpoint'";

afterEach(() => resetAlertsV2Hooks());

describe("alerts_v2 $filter", () => {
  it.each([
    ["ge", "lastUpdateDateTime ge 2026-03-02T10:30:00.1234567Z", ["a2", "a3"]],
    ["gt", "lastUpdateDateTime gt 2026-03-02T10:30:00.1234567Z", ["a3"]],
    ["le", "lastUpdateDateTime le 2026-03-02T10:30:00.1234567Z", ["a2", "a1"]],
    ["lt", "lastUpdateDateTime lt 2026-03-02T10:30:00.1234567Z", ["a1"]],
    ["eq", "lastUpdateDateTime eq 2026-03-02T10:00:00Z", ["a1"]],
    ["and (a window)", "lastUpdateDateTime ge 2026-03-02T10:00:00Z and lastUpdateDateTime lt 2026-03-02T11:00:00Z", ["a2", "a1"]],
    ["createdDateTime", "createdDateTime lt 2026-03-02T10:00:00Z", ["a3"]],
    ["an offset", "lastUpdateDateTime ge 2026-03-02T12:00:00+01:00", ["a3"]],
  ])("%s", (_name, filter, expected) => {
    expect(ids(`$filter=${encodeURIComponent(`${filter} and ${mdeOnly}`)}`)).toEqual(expected);
  });

  it.each([
    ["a clause without a value", "lastUpdateDateTime ge"],
    ["an unknown operator", "lastUpdateDateTime ne 2026-03-02T10:00:00Z"],
    ["or", "lastUpdateDateTime lt 2026-03-02T10:00:00Z or lastUpdateDateTime gt 2026-03-02T11:00:00Z"],
    ["a dangling and", "lastUpdateDateTime ge 2026-03-02T10:00:00Z and "],
    ["a quoted date", "lastUpdateDateTime ge '2026-03-02T10:00:00Z'"],
    ["a date without a time zone", "lastUpdateDateTime ge 2026-03-02T10:00:00"],
    ["not a date", "lastUpdateDateTime ge yesterday"],
    ["a property it cannot filter", "title eq 'x'"],
    ["serviceSource with ge", "serviceSource ge 'a'"],
  ])("%s is 400 BadRequest", (_name, filter) => {
    expect(() => list(`$filter=${encodeURIComponent(filter)}`)).toThrow(expect.objectContaining({ statusCode: 400, code: "BadRequest" }));
  });

  it("an unknown query option is 400 BadRequest", () => {
    expect(() => list("$orderby=createdDateTime")).toThrow(expect.objectContaining({ statusCode: 400, code: "BadRequest" }));
  });
});

describe("alerts_v2 paging", () => {
  it.each(["0", "2001", "-1", "1.5", "ten"])("$top=%s is 400", (top) => {
    expect(() => list(`$top=${top}`)).toThrow(expect.objectContaining({ statusCode: 400 }));
  });

  it("pages newest first by $top with $skiptoken links that keep the filter, and counts the whole list", () => {
    const filter = encodeURIComponent(mdeOnly);
    const first = list(`$filter=${filter}&$top=2&$count=true`);
    expect(first.value.map((a) => a.id)).toEqual(["a2", "a1"]);
    expect(first["@odata.count"]).toBe(3);
    const link = new URL(first["@odata.nextLink"]!);
    expect(link.origin + link.pathname).toBe("http://127.0.0.1:7072/v1.0/security/alerts_v2");
    expect(link.searchParams.get("$filter")).toBe(mdeOnly);
    const second = list(link.search.slice(1));
    expect(second.value.map((a) => a.id)).toEqual(["a3"]);
    expect(second["@odata.nextLink"]).toBeUndefined();
  });

  it("a $skiptoken it did not issue is 400; $count must be true or false", () => {
    expect(() => list("$skiptoken=bm90LWFuLW9mZnNldA")).toThrow(expect.objectContaining({ statusCode: 400, code: "BadRequest" }));
    expect(() => list("$count=yes")).toThrow(expect.objectContaining({ statusCode: 400 }));
  });

  it("pages by offset: an alert edited out of the filter between pages shifts the next page (the hole the poller must close)", () => {
    const stored = ["b1", "b2", "b3", "b4"].map((id) => mde(id, "2026-03-02T10:00:00Z"));
    const filter = encodeURIComponent(`lastUpdateDateTime lt 2026-03-02T11:00:00Z and ${mdeOnly}`);
    const owner = {};
    const first = listAlertsV2(owner, stored, new URLSearchParams(`$filter=${filter}&$top=2`), ctx, NOW).body as Body;
    expect(first.value.map((a) => a.id)).toEqual(["b1", "b2"]);
    alertsV2Hooks.beforeListing = ({ skip }) => {
      if (skip === 2) editGraphAlert("b1", { lastUpdateDateTime: "2026-03-02T11:59:00Z" });
    };
    const next = new URL(first["@odata.nextLink"]!).search.slice(1);
    const second = listAlertsV2(owner, stored, new URLSearchParams(next), ctx, NOW).body as Body;
    expect(second.value.map((a) => a.id)).toEqual(["b4"]);
  });
});
