/**
 * What the probe throws at a running `npm start`, and what each must get back: the access model
 * (tokens, roles, forged principal headers), the local host's gate (content type, Origin, Host,
 * admin API, body limits), input hygiene (control and bidi characters, bounded errors, library
 * names, network paths, forged correlation markers), cancel bodies, idempotency keys, forged
 * alerts and the Durable management API. Each expects a 4xx (or, for alerts, the documented safe
 * outcome: accepted, nothing started) and, for a validation error, the name of the field.
 * Written to the intended behaviour (README "Security model"; issue 11).
 */
import type { ProbeAnswer, ProbeRequest } from "./wire";
import { jsonOf } from "./wire";
import type { ProbeTokens } from "./tokens";

/** What every case may read, and what the baseline case records for the cases after it. */
export interface ProbeContext {
  base: URL;
  tokens: ProbeTokens;
  /** A machine id no tenant has. */
  machineId: string;
  /** Unique per run: idempotency keys and alert ids. */
  runId: string;
  baseline?: { instanceId: string; idempotencyKey: string };
}

export interface Expectation {
  /** Any of these statuses is expected. */
  status: number[];
  /** A 400 must name this field in `error.details[].field`. */
  field?: string;
  /** Further checks: why the answer is unexpected, or undefined. */
  check?: (answer: ProbeAnswer, ctx: ProbeContext) => string | undefined;
}

export type ProbeArea = "auth" | "local host" | "bounds" | "validation" | "cancel" | "idempotency" | "alerts" | "durable";

export interface ProbeCase {
  area: ProbeArea;
  name: string;
  request: (ctx: ProbeContext) => ProbeRequest;
  expect: Expectation;
  /** Cases that start a collection on purpose (the baseline): skipped with --no-baseline. */
  needsBaseline?: boolean;
  after?: (answer: ProbeAnswer, ctx: ProbeContext) => void;
}

/** Largest error body any refusal may have. */
export const MAX_ERROR_BODY_BYTES = 8 * 1024;

const JSON_TYPE = { "content-type": "application/json" };
const START = "/api/liveresponse";
const EVENT_GRID = "/runtime/webhooks/EventGrid?functionName=alertCollection";
const DURABLE = "/runtime/webhooks/durabletask";
const FOREIGN_ORIGIN = "https://attacker.example";
/** An instance id of the app's shape that no collection has. */
const UNKNOWN_INSTANCE = `lr-${"0".repeat(40)}`;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const getFile = (path: string) => [{ type: "GetFile", params: [{ key: "Path", value: path }] }];
const runScript = (name: string, args?: string) => [
  { type: "RunScript", params: [{ key: "ScriptName", value: name }, ...(args === undefined ? [] : [{ key: "Args", value: args }])] },
];

/** A request the app accepts as it is: the probe changes one thing at a time. */
const validBody = (ctx: ProbeContext): Record<string, unknown> => ({
  machineId: ctx.machineId,
  comment: "mde-live-response-collector probe",
  commands: getFile("C:\\Windows\\Temp\\probe-nothing.txt"),
});

/** POST /api/liveresponse with every role, JSON, and `body` (an object is merged over a valid body). */
function start(body: Record<string, unknown> | string | Buffer, headers: Record<string, string> = {}) {
  return (ctx: ProbeContext): ProbeRequest => ({
    method: "POST",
    path: START,
    headers: { ...JSON_TYPE, ...bearer(ctx.tokens.all), ...headers },
    body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify({ ...validBody(ctx), ...body }),
  });
}

/** POST /api/liveresponse with a valid body and these headers only (no defaults). */
function startWith(headers: (ctx: ProbeContext) => Record<string, string>, body?: (ctx: ProbeContext) => string) {
  return (ctx: ProbeContext): ProbeRequest => ({
    method: "POST",
    path: START,
    headers: headers(ctx),
    body: body ? body(ctx) : JSON.stringify(validBody(ctx)),
  });
}

function cancel(body: unknown, instanceId?: (ctx: ProbeContext) => string) {
  return (ctx: ProbeContext): ProbeRequest => ({
    method: "POST",
    path: `${START}/${instanceId ? instanceId(ctx) : UNKNOWN_INSTANCE}/cancel`,
    headers: { ...JSON_TYPE, ...bearer(ctx.tokens.all) },
    body: JSON.stringify(body),
  });
}

function admin(name: string, input: unknown, headers: Record<string, string> = {}) {
  return (): ProbeRequest => ({
    method: "POST",
    path: `/admin/functions/${name}`,
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify({ input: JSON.stringify(input) }),
  });
}

const invalid = (field: string): Expectation => ({ status: [400], field });

/** A Graph security alert an attacker could post: any device, any file, an id no tenant has. */
function forgedGraphAlert(ctx: ProbeContext, n: number, filePath = "C:\\Windows\\System32\\config"): Record<string, unknown> {
  const id = `da${ctx.runId}${String(n).padStart(6, "0")}_probe`;
  return {
    "@odata.type": "#microsoft.graph.security.alert",
    id,
    providerAlertId: id,
    serviceSource: "microsoftDefenderForEndpoint",
    severity: "high",
    status: "new",
    category: "DefenseEvasion",
    title: "Forged by the probe",
    createdDateTime: new Date().toISOString(),
    evidence: [
      {
        "@odata.type": "#microsoft.graph.security.deviceEvidence",
        mdeDeviceId: ctx.machineId,
        deviceDnsName: "victim.contoso.test",
        roles: ["compromised"],
      },
      {
        "@odata.type": "#microsoft.graph.security.fileEvidence",
        fileDetails: { fileName: "SAM", filePath, sha256: "0".repeat(64) },
        roles: [],
      },
    ],
  };
}

function gridEvent(ctx: ProbeContext, n: number, eventType = "Contoso.Security.AlertCreated", data: unknown = forgedGraphAlert(ctx, n)) {
  return {
    id: `probe-${ctx.runId}-${n}`,
    topic: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/providers/Microsoft.EventGrid/topics/x",
    subject: "alerts",
    eventType,
    eventTime: new Date().toISOString(),
    data,
    dataVersion: "1.0",
    metadataVersion: "1",
  };
}

function delivery(events: (ctx: ProbeContext) => unknown[], headers: Record<string, string> = { "aeg-event-type": "Notification" }) {
  return (ctx: ProbeContext): ProbeRequest => ({
    method: "POST",
    path: EVENT_GRID,
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify(events(ctx)),
  });
}

/** The answer must not hand out the Durable extension's management URLs or its system key. */
function noDurableLinks(answer: ProbeAnswer): string | undefined {
  if (answer.text.includes("/runtime/webhooks/durabletask")) return "the answer links to the Durable management API";
  if (/[?&]code=/.test(answer.text)) return "the answer carries a code= key";
  return undefined;
}

/** Every URL in the answer names the host the probe called, not the Host header it sent. */
function linksNotFrom(sentHost: string) {
  return (answer: ProbeAnswer): string | undefined => {
    const urls: string[] = [...(answer.text.match(/https?:\/\/[^"\s]+/g) ?? [])];
    if (answer.headers.location) urls.push(String(answer.headers.location));
    const hostOf = (u: string) => {
      try {
        return new URL(u).host.toLowerCase();
      } catch {
        return "";
      }
    };
    const bad = urls.find((u) => hostOf(u) === sentHost.toLowerCase());
    return bad ? `a link was built from the Host header: ${bad}` : undefined;
  };
}

/**
 * What the probe may have written of its 64 MB endless body before it sees the refusal, when the host
 * stopped reading at its limit (1 MiB): the rest sits in the loopback socket's buffers (Linux sizes
 * the send side up to net.ipv4.tcp_wmem's 4 MB, the receive side up to tcp_rmem's, 32 MB here), and
 * more goes out while a loaded machine delays the answer; one run under CI load measured 9.7 MB. Half
 * the body: a host that read it whole would take all 64 MB.
 */
const EARLY_REFUSAL_BYTES = 32 * 1024 * 1024;

/** The host stopped reading an oversized body early instead of reading it whole. */
function stoppedReadingBefore(bytes: number) {
  return (answer: ProbeAnswer): string | undefined =>
    answer.bytesSent > bytes ? `the host read ${answer.bytesSent} bytes before refusing` : undefined;
}

function fieldsOf(answer: ProbeAnswer): string[] {
  const details = (jsonOf(answer) as { error?: { details?: Array<{ field?: unknown }> } } | undefined)?.error?.details;
  return Array.isArray(details) ? details.map((d) => String(d.field)) : [];
}

function says(text: RegExp) {
  return (answer: ProbeAnswer): string | undefined => (text.test(answer.text) ? undefined : `the answer does not say ${text}`);
}

const LONG_NAME = "x".repeat(60 * 1024);

/** Every case, in the order they run (the baseline before the cases that reuse it). */
export const PROBE_CASES: ProbeCase[] = [
  // ---- Who may call (HTTP edge)
  { area: "auth", name: "start without a token", request: startWith(() => JSON_TYPE), expect: { status: [401] } },
  {
    area: "auth",
    name: "start with a bearer that is not a JWT",
    request: startWith(() => ({ ...JSON_TYPE, authorization: "Bearer not-a-token" })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with Basic credentials",
    request: startWith(() => ({ ...JSON_TYPE, authorization: "Basic YWRtaW46YWRtaW4=" })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with a token signed by another key",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.otherKey) })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with an unsigned token (alg none)",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.unsigned) })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with HS256 keyed by the public key (alg confusion)",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.hmacWithPublicKey) })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with a token for another audience",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.wrongAudience) })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with a token of another tenant",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.wrongTenant) })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with an expired token",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.expired) })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with a 20 KB Authorization header",
    request: startWith(() => ({ ...JSON_TYPE, authorization: `Bearer ${"a".repeat(20_000)}.b.c` })),
    expect: { status: [401, 431] },
  },
  {
    area: "auth",
    name: "start with forged x-ms-client-principal headers and no token",
    request: startWith(() => ({
      ...JSON_TYPE,
      "x-ms-client-principal": Buffer.from(
        JSON.stringify({
          auth_typ: "aad",
          claims: [
            { typ: "roles", val: "Collector.Run" },
            { typ: "name", val: "admin@contoso.com" },
          ],
        }),
      ).toString("base64"),
      "x-ms-client-principal-name": "admin@contoso.com",
      "x-ms-client-principal-id": "00000000-0000-0000-0000-000000000001",
    })),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "start with a Read token plus a forged principal granting Run",
    request: startWith((ctx) => ({
      ...JSON_TYPE,
      ...bearer(ctx.tokens.read),
      "x-ms-client-principal": Buffer.from(JSON.stringify({ auth_typ: "aad", claims: [{ typ: "roles", val: "Collector.Run" }] })).toString(
        "base64",
      ),
    })),
    expect: { status: [403] },
  },
  {
    area: "auth",
    name: "start with a token that has no roles",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.noRoles) })),
    expect: { status: [403] },
  },
  {
    area: "auth",
    name: "start with a Read-only token",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.read) })),
    expect: { status: [403] },
  },
  {
    area: "auth",
    name: "start with a Cancel-only token",
    request: startWith((ctx) => ({ ...JSON_TYPE, ...bearer(ctx.tokens.cancel) })),
    expect: { status: [403] },
  },
  {
    area: "auth",
    name: "read a status without a token",
    request: () => ({ method: "GET", path: `${START}/${UNKNOWN_INSTANCE}` }),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "read a status with a Cancel-only token",
    request: (ctx) => ({ method: "GET", path: `${START}/${UNKNOWN_INSTANCE}`, headers: bearer(ctx.tokens.cancel) }),
    expect: { status: [403] },
  },
  {
    area: "auth",
    name: "cancel without a token",
    request: () => ({ method: "POST", path: `${START}/${UNKNOWN_INSTANCE}/cancel`, headers: JSON_TYPE, body: "{}" }),
    expect: { status: [401] },
  },
  {
    area: "auth",
    name: "cancel with a Run-only token",
    request: (ctx) => ({
      method: "POST",
      path: `${START}/${UNKNOWN_INSTANCE}/cancel`,
      headers: { ...JSON_TYPE, ...bearer(ctx.tokens.run) },
      body: "{}",
    }),
    expect: { status: [403] },
  },

  // ---- The local host's gate
  {
    area: "local host",
    name: "text/plain POST of a valid request (a web page's simple request)",
    request: start(JSON.stringify({}), { "content-type": "text/plain;charset=UTF-8" }),
    expect: { status: [415] },
  },
  {
    area: "local host",
    name: "form-encoded POST",
    request: start("machineId=x&comment=y", { "content-type": "application/x-www-form-urlencoded" }),
    expect: { status: [415] },
  },
  {
    area: "local host",
    name: "multipart POST",
    request: start("--b\r\n\r\n{}\r\n--b--", { "content-type": "multipart/form-data; boundary=b" }),
    expect: { status: [415] },
  },
  {
    area: "local host",
    name: "POST with a body and no content type",
    request: (ctx) => ({ method: "POST", path: START, headers: bearer(ctx.tokens.all), body: JSON.stringify(validBody(ctx)) }),
    expect: { status: [415] },
  },
  {
    area: "local host",
    name: "valid request from a foreign Origin",
    request: start({}, { origin: FOREIGN_ORIGIN }),
    expect: { status: [403] },
  },
  {
    area: "local host",
    name: "valid request from Origin: null (sandboxed page, file://)",
    request: start({}, { origin: "null" }),
    expect: { status: [403] },
  },
  {
    area: "local host",
    name: "valid request through DNS rebinding (Host: attacker.example)",
    request: start({}, { host: "attacker.example" }),
    expect: { status: [421] },
  },
  {
    area: "local host",
    name: "admin API runs the submitLiveResponse activity",
    request: admin("submitLiveResponse", { machineId: "0".repeat(40), commands: getFile("C:\\x"), comment: "x" }),
    expect: { status: [400] },
  },
  {
    area: "local host",
    name: "admin API runs the collectCommandResult activity",
    request: admin("collectCommandResult", { actionId: "x", index: 0 }),
    expect: { status: [400] },
  },
  {
    area: "local host",
    name: "admin API runs the cancelMachineAction activity",
    request: admin("cancelMachineAction", { actionId: "x", comment: "x" }),
    expect: { status: [400] },
  },
  {
    area: "local host",
    name: "admin API starts the collectEvidence orchestrator",
    request: admin("collectEvidence", { request: {} }),
    expect: { status: [400] },
  },
  {
    area: "local host",
    name: "admin API from a foreign Origin (the timer)",
    request: admin("scheduledCollection", "", { origin: FOREIGN_ORIGIN }),
    expect: { status: [403] },
  },
  {
    area: "local host",
    name: "path traversal from /api to the admin API (%2e%2e)",
    request: () => ({
      method: "POST",
      path: "/api/%2e%2e/admin/functions/submitLiveResponse",
      headers: JSON_TYPE,
      body: JSON.stringify({ input: "{}" }),
    }),
    expect: { status: [400, 404, 405] },
  },
  { area: "local host", name: "malformed %-escape in the admin API path", request: admin("%E0%A4%A", ""), expect: { status: [400, 404] } },
  {
    area: "local host",
    name: "request smuggling: Content-Length and Transfer-Encoding together",
    request: (ctx) => ({
      method: "POST",
      path: START,
      raw: [
        `POST ${START} HTTP/1.1`,
        `Host: ${ctx.base.host}`,
        "Content-Type: application/json",
        "Content-Length: 4",
        "Transfer-Encoding: chunked",
        "",
        "0",
        "",
        // The smuggled request: the timer through the admin API.
        "POST /admin/functions/scheduledCollection HTTP/1.1",
        `Host: ${ctx.base.host}`,
        "Content-Type: application/json",
        "Content-Length: 12",
        "",
        '{"input":""}',
      ].join("\r\n"),
    }),
    expect: { status: [400] },
  },

  // ---- Bounds
  {
    area: "bounds",
    name: "70 KB request body (declared length)",
    request: start({ comment: "c".repeat(70 * 1024) }),
    expect: { status: [413] },
  },
  {
    area: "bounds",
    name: "2 MB request body sent chunked",
    request: (ctx) => ({
      method: "POST",
      path: START,
      headers: { ...JSON_TYPE, ...bearer(ctx.tokens.all) },
      chunked: { chunk: Buffer.alloc(64 * 1024, 0x20), maxChunks: 32 },
    }),
    expect: { status: [413] },
  },
  {
    area: "bounds",
    name: "endless chunked request body (stops at 64 MB)",
    request: (ctx) => ({
      method: "POST",
      path: START,
      headers: { ...JSON_TYPE, ...bearer(ctx.tokens.all) },
      chunked: { chunk: Buffer.alloc(64 * 1024, 0x20), maxChunks: 1024 },
    }),
    expect: { status: [413], check: stoppedReadingBefore(EARLY_REFUSAL_BYTES) },
  },
  {
    area: "bounds",
    name: "2 MB Event Grid delivery",
    request: (ctx) => ({
      method: "POST",
      path: EVENT_GRID,
      headers: { ...JSON_TYPE, "aeg-event-type": "Notification" },
      body: JSON.stringify([gridEvent(ctx, 0, "Contoso.Pad", { pad: "p".repeat(2 * 1024 * 1024) })]),
    }),
    expect: { status: [413] },
  },
  {
    area: "bounds",
    name: "endless chunked Event Grid delivery",
    request: () => ({
      method: "POST",
      path: EVENT_GRID,
      headers: { ...JSON_TYPE, "aeg-event-type": "Notification" },
      chunked: { chunk: Buffer.alloc(64 * 1024, 0x20), maxChunks: 1024 },
    }),
    expect: { status: [413], check: stoppedReadingBefore(EARLY_REFUSAL_BYTES) },
  },
  {
    area: "bounds",
    name: "2 MB admin API body",
    request: () => ({
      method: "POST",
      path: "/admin/functions/scheduledCollection",
      headers: JSON_TYPE,
      body: JSON.stringify({ input: "x".repeat(2 * 1024 * 1024) }),
    }),
    expect: { status: [413] },
  },
  {
    area: "bounds",
    name: "1,000 empty commands: a bounded error that says how many problems",
    request: start({ commands: Array.from({ length: 1000 }, () => ({})) }),
    expect: { status: [400], field: "commands", check: says(/in all/) },
  },
  {
    area: "bounds",
    name: "a 60 KB field name is echoed bounded",
    request: start({ [LONG_NAME]: 1 }),
    expect: {
      status: [400],
      check: (answer) => {
        const echoed = fieldsOf(answer).find((f) => f.startsWith("xxxx"));
        if (!echoed) return "the unknown field is not named";
        return echoed.length > 120 ? `the field name came back with ${echoed.length} characters` : undefined;
      },
    },
  },
  {
    area: "bounds",
    name: "6,000 unknown fields: a bounded error",
    request: start(Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`f${i}`, 0]))),
    expect: { status: [400], check: says(/in all/) },
  },
  {
    area: "bounds",
    name: "JSON nested 30,000 levels deep",
    request: start("[".repeat(30_000) + "]".repeat(30_000)),
    expect: invalid("(body)"),
  },
  { area: "bounds", name: "1,001-character comment", request: start({ comment: "c".repeat(1001) }), expect: invalid("comment") },
  {
    area: "bounds",
    name: "201-character idempotency key",
    request: start({ idempotencyKey: "k".repeat(201) }),
    expect: invalid("idempotencyKey"),
  },
  {
    area: "bounds",
    name: "21 commands",
    request: start({ commands: Array.from({ length: 21 }, () => getFile("C:\\a")[0]) }),
    expect: invalid("commands"),
  },

  // ---- Input hygiene
  { area: "validation", name: "C0 control (BEL) in the comment", request: start({ comment: "INC-1 \u0007" }), expect: invalid("comment") },
  {
    area: "validation",
    name: "C1 control (U+0085 next line) in the comment",
    request: start({ comment: "INC-1\u0085forged line" }),
    expect: invalid("comment"),
  },
  {
    area: "validation",
    name: "C1 control (U+009B CSI) in the comment",
    request: start({ comment: "INC-1 \u009b31m" }),
    expect: invalid("comment"),
  },
  {
    area: "validation",
    name: "right-to-left override in the comment",
    request: start({ comment: "INC-1 \u202etxt.exe" }),
    expect: invalid("comment"),
  },
  { area: "validation", name: "lone surrogate in the comment", request: start({ comment: "INC-1 \ud800" }), expect: invalid("comment") },
  {
    area: "validation",
    name: "line separator U+2028 in a GetFile path",
    request: start({ commands: getFile("C:\\a\u2028b.txt") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "paragraph separator U+2029 in a GetFile path",
    request: start({ commands: getFile("C:\\a\u2029b.txt") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "first-strong isolate U+2068 in RunScript Args",
    request: start({ commands: runScript("a.ps1", "-p \u2068x") }),
    expect: invalid("commands[0].params[1].value"),
  },
  {
    area: "validation",
    name: "bidi override in a playbook parameter",
    request: start({ commands: undefined, playbook: { name: "memory-dump", parameters: { process: "lsass\u202e" } } }),
    expect: invalid("playbook.parameters.process"),
  },
  {
    area: "validation",
    name: "bidi override in the idempotency key",
    request: start({ idempotencyKey: "key\u202e1" }),
    expect: invalid("idempotencyKey"),
  },
  {
    area: "validation",
    name: "bidi override in an unknown field name is not echoed raw",
    request: start({ "a\u202eb": 1 }),
    expect: { status: [400], check: (a) => (a.text.includes("\u202e") ? "the bidi character came back raw" : undefined) },
  },
  {
    area: "validation",
    name: "ScriptName ..",
    request: start({ commands: runScript("..") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "ScriptName .",
    request: start({ commands: runScript(".") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "ScriptName ..\\evil.ps1",
    request: start({ commands: runScript("..\\evil.ps1") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "PutFile FileName ..",
    request: start({ commands: [{ type: "PutFile", params: [{ key: "FileName", value: ".." }] }] }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "GetFile from a UNC share \\\\server\\share",
    request: start({ commands: getFile("\\\\attacker.example\\share\\x.exe") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "GetFile from //server/share",
    request: start({ commands: getFile("//attacker.example/share/x.exe") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "GetFile from a device path \\\\?\\",
    request: start({ commands: getFile("\\\\?\\UNC\\attacker.example\\share\\x") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "GetFile from a device path \\\\.\\",
    request: start({ commands: getFile("\\\\.\\PhysicalDrive0") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "GetFile from the NT namespace \\??\\",
    request: start({ commands: getFile("\\??\\C:\\Windows\\x") }),
    expect: invalid("commands[0].params[0].value"),
  },
  {
    area: "validation",
    name: "forged correlation marker in the comment",
    request: start({ comment: "INC-1 [collector:lr-0123456789abcdef0123456789abcdef01234567]" }),
    expect: invalid("comment"),
  },
  {
    area: "validation",
    name: "forged correlation marker, other case",
    request: start({ comment: "[COLLECTOR:x" }),
    expect: invalid("comment"),
  },
  {
    area: "validation",
    name: "__proto__ field (prototype pollution)",
    request: start('{"machineId":"' + "0".repeat(40) + '","commands":[],"__proto__":{"isAdmin":true}}'),
    expect: invalid("__proto__"),
  },
  {
    area: "validation",
    name: "constructor.prototype field",
    request: start({ constructor: { prototype: { isAdmin: true } } }),
    expect: invalid("constructor"),
  },
  {
    area: "validation",
    name: "OData injection in the machine id",
    request: start({ machineId: "x' or machineId ne 'y" }),
    expect: invalid("machineId"),
  },
  { area: "validation", name: "machine id as an object", request: start({ machineId: { $ne: null } }), expect: invalid("machineId") },
  {
    area: "validation",
    name: "param key in the wrong case (path)",
    request: start({ commands: [{ type: "GetFile", params: [{ key: "path", value: "C:\\a" }] }] }),
    expect: invalid("commands[0].params[0].key"),
  },
  {
    area: "validation",
    name: "commands out of MDE's order",
    request: start({ commands: [...getFile("C:\\a"), ...runScript("a.ps1")] }),
    expect: invalid("commands"),
  },
  {
    area: "validation",
    name: "commands and a playbook together",
    request: start({ playbook: { name: "x" } }),
    expect: invalid("playbook"),
  },
  {
    area: "validation",
    name: "an unknown playbook",
    request: start({ commands: undefined, playbook: { name: "no-such-playbook" } }),
    expect: invalid("playbook.name"),
  },
  { area: "validation", name: "body is a JSON array", request: start("[1,2]"), expect: invalid("(body)") },
  { area: "validation", name: "body is JSON null", request: start("null"), expect: invalid("(body)") },
  { area: "validation", name: "body is not JSON", request: start("{machineId:"), expect: invalid("(body)") },
  {
    area: "validation",
    name: "body is not UTF-8",
    request: start(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    expect: { status: [400] },
  },
  {
    area: "validation",
    name: "Idempotency-Key header differs from the body's key",
    request: start({ idempotencyKey: "probe-a" }, { "idempotency-key": "probe-b" }),
    expect: invalid("idempotencyKey"),
  },

  // ---- Cancel bodies (checked before the instance is looked up)
  { area: "cancel", name: "cancel body with an extra field", request: cancel({ reason: "probe", force: true }), expect: invalid("force") },
  {
    area: "cancel",
    name: "cancel body with requestedBy as an object",
    request: cancel({ requestedBy: { name: "admin", roles: ["Global Administrator"] } }),
    expect: invalid("requestedBy"),
  },
  {
    area: "cancel",
    name: "cancel body with a self-declared requestedBy",
    request: cancel({ requestedBy: "ceo@contoso.com" }),
    expect: invalid("requestedBy"),
  },
  { area: "cancel", name: "cancel reason with a bidi override", request: cancel({ reason: "done \u202e" }), expect: invalid("reason") },
  { area: "cancel", name: "cancel reason of 600 characters", request: cancel({ reason: "r".repeat(600) }), expect: invalid("reason") },
  { area: "cancel", name: "cancel reason as an object", request: cancel({ reason: { toString: "x" } }), expect: invalid("reason") },
  { area: "cancel", name: "cancel body is an array", request: cancel([1]), expect: invalid("(body)") },
  {
    area: "cancel",
    name: "cancel an instance id with path characters",
    request: cancel({}, () => "..%2F..%2Fruntime"),
    expect: { status: [400, 404] },
  },
  { area: "cancel", name: "cancel an instance that does not exist", request: cancel({ reason: "probe" }), expect: { status: [404] } },
  {
    area: "cancel",
    name: "status of an instance id with a wildcard",
    request: (ctx) => ({ method: "GET", path: `${START}/%2A`, headers: bearer(ctx.tokens.all) }),
    expect: { status: [400, 404] },
  },

  // ---- Idempotency keys: one collection started on purpose, on a device no tenant has
  {
    area: "idempotency",
    name: "baseline: a valid request starts (202) with only the app's own links",
    needsBaseline: true,
    request: (ctx) => start({ comment: "probe baseline", idempotencyKey: `probe-${ctx.runId}` }, { host: `[::1]:${ctx.base.port}` })(ctx),
    expect: { status: [202], check: (answer, ctx) => noDurableLinks(answer) ?? linksNotFrom(`[::1]:${ctx.base.port}`)(answer) },
    after: (answer, ctx) => {
      const id = (jsonOf(answer) as { id?: unknown } | undefined)?.id;
      if (answer.status === 202 && typeof id === "string") ctx.baseline = { instanceId: id, idempotencyKey: `probe-${ctx.runId}` };
    },
  },
  {
    area: "idempotency",
    name: "the same idempotency key with a different comment",
    needsBaseline: true,
    request: (ctx) => start({ comment: "probe baseline, other comment", idempotencyKey: `probe-${ctx.runId}` })(ctx),
    expect: { status: [409] },
  },
  {
    area: "idempotency",
    name: "the same idempotency key for another device",
    needsBaseline: true,
    request: (ctx) => start({ comment: "probe baseline", idempotencyKey: `probe-${ctx.runId}`, machineId: "f".repeat(40) })(ctx),
    expect: { status: [409] },
  },
  {
    area: "idempotency",
    name: "the baseline's status names no Durable management URL",
    needsBaseline: true,
    request: (ctx) => ({
      method: "GET",
      path: `${START}/${ctx.baseline?.instanceId ?? UNKNOWN_INSTANCE}`,
      headers: bearer(ctx.tokens.read),
    }),
    expect: { status: [200, 202], check: noDurableLinks },
  },
  {
    area: "idempotency",
    name: "cancel the baseline with requestedBy as an object",
    needsBaseline: true,
    request: (ctx) => cancel({ requestedBy: { toString: "admin" } }, (c) => c.baseline?.instanceId ?? UNKNOWN_INSTANCE)(ctx),
    expect: invalid("requestedBy"),
  },

  // ---- Alerts: the documented safe outcome is "accepted, nothing started" (checked at the end)
  {
    area: "alerts",
    name: "forged Graph alert naming any device and a local file",
    request: delivery((ctx) => [gridEvent(ctx, 1)]),
    expect: { status: [200, 202] },
  },
  {
    area: "alerts",
    name: "forged Graph alert naming a UNC path",
    request: delivery((ctx) => [gridEvent(ctx, 6, undefined, forgedGraphAlert(ctx, 6, "\\\\attacker.example\\share"))]),
    expect: { status: [200, 202] },
  },
  {
    area: "alerts",
    name: "500 forged alerts in one delivery",
    request: delivery((ctx) => Array.from({ length: 500 }, (_, i) => gridEvent(ctx, 100 + i))),
    expect: { status: [200, 202] },
  },
  {
    area: "alerts",
    name: "Graph change notification about a user (not an alert)",
    request: delivery((ctx) => [
      gridEvent(ctx, 2, "Microsoft.Graph.UserUpdated", { changeType: "updated", resource: "Users/1", resourceData: { id: "1" } }),
    ]),
    expect: { status: [200, 202] },
  },
  {
    area: "alerts",
    name: "forged alert through the admin API",
    request: (ctx) => admin("alertCollection", gridEvent(ctx, 3))(),
    expect: { status: [202] },
  },
  {
    area: "alerts",
    name: "delivery without aeg-event-type",
    request: delivery((ctx) => [gridEvent(ctx, 4)], {}),
    expect: { status: [400] },
  },
  {
    area: "alerts",
    name: "forged alert from a foreign Origin",
    request: delivery((ctx) => [gridEvent(ctx, 5)], { "aeg-event-type": "Notification", origin: FOREIGN_ORIGIN }),
    expect: { status: [403] },
  },
  {
    area: "alerts",
    name: "CloudEvents handshake without WebHook-Request-Origin",
    request: () => ({ method: "OPTIONS", path: EVENT_GRID }),
    expect: { status: [400] },
  },

  // ---- The Durable management API (in Azure behind the system key; locally behind the gate)
  {
    area: "durable",
    name: "list every instance from a web page",
    request: () => ({ method: "GET", path: `${DURABLE}/instances`, headers: { origin: FOREIGN_ORIGIN } }),
    expect: { status: [403] },
  },
  {
    area: "durable",
    name: "list every instance through DNS rebinding",
    request: () => ({ method: "GET", path: `${DURABLE}/instances`, headers: { host: "attacker.example:7071" } }),
    expect: { status: [421] },
  },
  {
    area: "durable",
    name: "start collectEvidence directly from a web page",
    request: (ctx) => ({
      method: "POST",
      path: `${DURABLE}/orchestrators/collectEvidence`,
      headers: { "content-type": "text/plain", origin: FOREIGN_ORIGIN },
      body: JSON.stringify({ request: { machineId: ctx.machineId } }),
    }),
    expect: { status: [403] },
  },
  {
    area: "durable",
    name: "start collectEvidence directly with a text/plain body",
    request: (ctx) => ({
      method: "POST",
      path: `${DURABLE}/orchestrators/collectEvidence`,
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ request: { machineId: ctx.machineId } }),
    }),
    expect: { status: [415] },
  },
  {
    area: "durable",
    name: "terminate an instance from a web page",
    request: (ctx) => ({
      method: "POST",
      path: `${DURABLE}/instances/${ctx.baseline?.instanceId ?? UNKNOWN_INSTANCE}/terminate?reason=x`,
      headers: { origin: FOREIGN_ORIGIN },
    }),
    expect: { status: [403] },
  },
  {
    area: "durable",
    name: "raise a forged cancel event from a web page",
    request: (ctx) => ({
      method: "POST",
      path: `${DURABLE}/instances/${ctx.baseline?.instanceId ?? UNKNOWN_INSTANCE}/raiseEvent/CancelCollection`,
      headers: { ...JSON_TYPE, origin: FOREIGN_ORIGIN },
      body: JSON.stringify({ requestedBy: { name: "x" }, reason: "forged" }),
    }),
    expect: { status: [403] },
  },
  {
    area: "durable",
    name: "purge an instance from a web page",
    request: (ctx) => ({
      method: "DELETE",
      path: `${DURABLE}/instances/${ctx.baseline?.instanceId ?? UNKNOWN_INSTANCE}`,
      headers: { origin: FOREIGN_ORIGIN },
    }),
    expect: { status: [403] },
  },
];
