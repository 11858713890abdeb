/**
 * `npm run grant-permissions` against a local stub of the Microsoft Graph endpoints it calls
 * (servicePrincipals, appRoleAssignments) on 127.0.0.1: what it POSTs, that a second run grants
 * nothing, and how it reports the failures an administrator will meet. The stub's shapes follow
 * https://learn.microsoft.com/graph/api/resources/serviceprincipal (appRoles) and
 * https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignments.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccessToken, TokenCredential } from "@azure/identity";
import {
  ALERTS_POLLING_ROLE,
  GRAPH_APP_ID,
  LIBRARY_ROLE,
  MDE_APP_ID,
  REQUIRED_ROLES,
  runGrantPermissions,
} from "../../../scripts/mdePermissions";

interface Assignment {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

interface Recorded {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
}

/** Just enough of Microsoft Graph v1.0 for the script, with failure switches. */
class GraphStub {
  readonly identityId = randomUUID();
  readonly mdeId = randomUUID();
  readonly otherApiId = randomUUID();
  /** Role value -> app role id; random so that only resolving by value can find them. */
  readonly roleIds = new Map([...REQUIRED_ROLES, LIBRARY_ROLE, "Ti.ReadWrite"].map((v) => [v, randomUUID()]));
  /** Microsoft Graph's service principal, with the read role and the broader one that must not be picked. */
  readonly graphId = randomUUID();
  readonly graphRoleIds = new Map([ALERTS_POLLING_ROLE, "SecurityAlert.ReadWrite.All", "User.Read.All"].map((v) => [v, randomUUID()]));
  graphInTenant = true;
  assignments: Assignment[] = [];
  requests: Recorded[] = [];
  pageSize = 2;
  missingRoles: string[] = [];
  mdeInTenant = true;
  postStatus?: { status: number; body: unknown };
  private server?: Server;
  baseUrl = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  posts(): Recorded[] {
    return this.requests.filter((r) => r.method === "POST");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url!, this.baseUrl);
    this.requests.push({
      method: req.method!,
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : undefined,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const notFound = () => send(404, { error: { code: "Request_ResourceNotFound", message: "Resource does not exist" } });

    const own = new RegExp(`^/v1.0/servicePrincipals/${this.identityId}$`);
    const assignments = new RegExp(`^/v1.0/servicePrincipals/${this.identityId}/appRoleAssignments$`);
    if (req.method === "GET" && url.pathname === "/v1.0/servicePrincipals") {
      const filter = url.searchParams.get("$filter");
      // A "missing" role is still listed, as a role for users only of the same value: it must not be picked.
      const appRoles = (roleIds: Map<string, string>) =>
        [...roleIds].map(([value, id]) => ({
          id,
          value,
          isEnabled: true,
          allowedMemberTypes: this.missingRoles.includes(value) ? ["User"] : ["Application"],
          displayName: value,
        }));
      if (filter === `appId eq '${MDE_APP_ID}'`) {
        if (!this.mdeInTenant) return send(200, { value: [] });
        const mde = { id: this.mdeId, appId: MDE_APP_ID, displayName: "WindowsDefenderATP", appRoles: appRoles(this.roleIds) };
        return send(200, { value: [mde] });
      }
      if (filter === `appId eq '${GRAPH_APP_ID}'`) {
        if (!this.graphInTenant) return send(200, { value: [] });
        const graph = { id: this.graphId, appId: GRAPH_APP_ID, displayName: "Microsoft Graph", appRoles: appRoles(this.graphRoleIds) };
        return send(200, { value: [graph] });
      }
      return send(400, { error: { code: "BadRequest", message: `unexpected filter ${filter}` } });
    }
    if (
      req.method === "GET" &&
      url.pathname.startsWith("/v1.0/servicePrincipals/") &&
      !own.test(url.pathname) &&
      !assignments.test(url.pathname)
    )
      return notFound();
    if (req.method === "GET" && own.test(url.pathname))
      return send(200, { id: this.identityId, displayName: "id-collector-test", servicePrincipalType: "ManagedIdentity" });
    if (req.method === "GET" && assignments.test(url.pathname)) {
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      const mine = this.assignments.filter((a) => a.principalId === this.identityId);
      const page = mine.slice(skip, skip + this.pageSize);
      const next = skip + this.pageSize < mine.length ? `${this.baseUrl}${url.pathname}?$skiptoken=${skip + this.pageSize}` : undefined;
      return send(200, { value: page, ...(next ? { "@odata.nextLink": next } : {}) });
    }
    if (req.method === "POST" && assignments.test(url.pathname)) {
      if (this.postStatus) return send(this.postStatus.status, this.postStatus.body);
      const body = JSON.parse(text) as Omit<Assignment, "id">;
      if (
        this.assignments.some(
          (a) => a.principalId === body.principalId && a.resourceId === body.resourceId && a.appRoleId === body.appRoleId,
        )
      ) {
        return send(400, { error: { code: "Request_BadRequest", message: "Permission being assigned already exists on the object" } });
      }
      const created = { id: randomUUID(), ...body };
      this.assignments.push(created);
      return send(201, created);
    }
    return notFound();
  }
}

class FakeCredential implements TokenCredential {
  scopes: string[] = [];
  constructor(private readonly fail?: string) {}
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    if (this.fail) throw new Error(this.fail);
    return { token: "graph-token-for-test", expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

/** The role lines printed under one API's header, e.g. ["granted       SecurityAlert.Read.All"]. */
function roleLines(out: string, api: string): string[] {
  const lines = out.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`API:      ${api} (`));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && !l.startsWith("  "));
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim());
}

async function run(stub: GraphStub, args: string[], credential = new FakeCredential()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runGrantPermissions(["--graph-url", stub.baseUrl, ...args], {
    credential: () => credential,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n"), credential };
}

describe("grant-permissions against a Graph stub", () => {
  let stub: GraphStub;
  beforeEach(async () => {
    stub = new GraphStub();
    await stub.start();
  });
  afterEach(() => stub.stop());

  it("posts one assignment per missing role, with role ids resolved by value, then finds them all held on a second run", async () => {
    // Already held: Alert.Read.All on MDE. Not held: a same-id-looking assignment on another API does not count.
    stub.assignments.push({
      id: randomUUID(),
      principalId: stub.identityId,
      resourceId: stub.mdeId,
      appRoleId: stub.roleIds.get("Alert.Read.All")!,
    });
    stub.assignments.push({
      id: randomUUID(),
      principalId: stub.identityId,
      resourceId: stub.otherApiId,
      appRoleId: stub.roleIds.get("Machine.Read.All")!,
    });
    stub.assignments.push({ id: randomUUID(), principalId: stub.identityId, resourceId: stub.otherApiId, appRoleId: randomUUID() });

    const first = await run(stub, ["--principal-id", stub.identityId]);
    expect(first.code).toBe(0);
    expect(stub.posts().map((p) => ({ path: p.path, body: p.body }))).toEqual(
      ["Machine.LiveResponse", "Machine.Read.All", "Machine.ReadWrite.All", "Library.Manage"].map((role) => ({
        path: `/v1.0/servicePrincipals/${stub.identityId}/appRoleAssignments`,
        body: { principalId: stub.identityId, resourceId: stub.mdeId, appRoleId: stub.roleIds.get(role) },
      })),
    );
    expect(first.out).toMatch(/granted {7}Machine\.LiveResponse/);
    expect(first.out).toMatch(/already held {2}Alert\.Read\.All/);
    expect(first.out).toContain("4 granted, 1 already held");
    expect(first.credential.scopes).toEqual([`${stub.baseUrl}/.default`]);
    expect(new Set(stub.requests.map((r) => r.authorization))).toEqual(new Set(["Bearer graph-token-for-test"]));
    // The collector lists the live response library before RunScript and PutFile: list-library-files names only Library.Manage.
    expect(stub.posts().some((p) => (p.body as Assignment).appRoleId === stub.roleIds.get(LIBRARY_ROLE))).toBe(true);

    stub.requests = [];
    const second = await run(stub, ["--principal-id", stub.identityId]);
    expect(second.code).toBe(0);
    expect(stub.posts()).toEqual([]);
    expect(second.out).toContain("0 granted, 5 already held");
    // The held assignments came over more than one page (pageSize 2): the next links were followed.
    expect(stub.requests.filter((r) => r.path.includes("appRoleAssignments")).length).toBeGreaterThan(2);
  });

  it("still accepts --include-library-manage, granting the same roles (Library.Manage is always among them)", async () => {
    const r = await run(stub, ["--principal-id", stub.identityId, "--include-library-manage"]);
    expect(r.code).toBe(0);
    expect(REQUIRED_ROLES).toContain(LIBRARY_ROLE);
    expect(stub.posts().map((p) => (p.body as Assignment).appRoleId)).toEqual(REQUIRED_ROLES.map((v) => stub.roleIds.get(v)));
  });

  it("grants nothing on a dry run and says what it would grant", async () => {
    const r = await run(stub, ["--principal-id", stub.identityId, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(stub.posts()).toEqual([]);
    expect(r.out).toContain("Dry run: 5 to grant, 0 already held.");
  });

  it("counts an assignment another run created meanwhile as held (Graph: already exists)", async () => {
    stub.postStatus = {
      status: 400,
      body: { error: { code: "Request_BadRequest", message: "Permission being assigned already exists on the object" } },
    };
    const r = await run(stub, ["--principal-id", stub.identityId]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("0 granted, 5 already held");
  });

  it("explains a 403: the permissions the signed-in identity lacks", async () => {
    stub.postStatus = {
      status: 403,
      body: { error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } },
    };
    const r = await run(stub, ["--principal-id", stub.identityId]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("grant-permissions failed (Forbidden)");
    expect(r.err).toContain("AppRoleAssignment.ReadWrite.All and Application.Read.All");
    expect(r.err).toContain("Insufficient privileges");
    expect(stub.posts()).toHaveLength(1);
  });

  it("names the likely mix-up when the principal id is unknown (a client id passed instead)", async () => {
    const clientId = randomUUID();
    const r = await run(stub, ["--principal-id", clientId]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("(PrincipalNotFound)");
    expect(r.err).toContain(clientId);
    expect(r.err).toContain("not its client id");
  });

  it("stops before granting anything when MDE is missing from the tenant or lacks a role as an application role", async () => {
    stub.mdeInTenant = false;
    const absent = await run(stub, ["--principal-id", stub.identityId]);
    expect(absent.code).toBe(1);
    expect(absent.err).toContain("(MdeServicePrincipalNotFound)");

    stub.mdeInTenant = true;
    stub.missingRoles = ["Machine.ReadWrite.All"];
    const missing = await run(stub, ["--principal-id", stub.identityId]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("(RoleNotFound)");
    expect(missing.err).toContain("Machine.ReadWrite.All");
    expect(stub.posts()).toEqual([]);
  });

  describe("--include-alerts-polling (Microsoft Graph SecurityAlert.Read.All for the alerts_v2 poller)", () => {
    const graphPosts = () => stub.posts().filter((p) => (p.body as Assignment).resourceId === stub.graphId);

    it("is not granted, nor Graph's service principal even looked up, unless asked (least privilege)", async () => {
      const r = await run(stub, ["--principal-id", stub.identityId]);
      expect(r.code).toBe(0);
      expect(graphPosts()).toEqual([]);
      expect(stub.requests.some((q) => q.path.includes(GRAPH_APP_ID))).toBe(false);
      expect(roleLines(r.out, "Microsoft Graph")).toEqual([]);
      expect(r.out).toContain(`Not requested: Microsoft Graph ${ALERTS_POLLING_ROLE}`);
      expect(r.out).toContain("--include-alerts-polling");
    });

    it("grants it once on Graph's service principal, role id resolved by value, then finds it held", async () => {
      const first = await run(stub, ["--principal-id", stub.identityId, "--include-alerts-polling"]);
      expect(first.code).toBe(0);
      expect(graphPosts().map((p) => ({ path: p.path, body: p.body }))).toEqual([
        {
          path: `/v1.0/servicePrincipals/${stub.identityId}/appRoleAssignments`,
          body: { principalId: stub.identityId, resourceId: stub.graphId, appRoleId: stub.graphRoleIds.get(ALERTS_POLLING_ROLE) },
        },
      ]);
      // The MDE roles are granted beside it, each on MDE's service principal.
      expect(stub.posts().filter((p) => (p.body as Assignment).resourceId === stub.mdeId)).toHaveLength(REQUIRED_ROLES.length);
      expect(stub.posts()).toHaveLength(REQUIRED_ROLES.length + 1);
      expect(first.out).toContain(`API:      Microsoft Graph (service principal ${stub.graphId}, appId ${GRAPH_APP_ID})`);
      expect(roleLines(first.out, "Microsoft Graph")).toEqual([`granted       ${ALERTS_POLLING_ROLE}`]);
      expect(roleLines(first.out, "WindowsDefenderATP")).toEqual(REQUIRED_ROLES.map((v) => `granted       ${v}`));
      expect(first.out).toContain(`${REQUIRED_ROLES.length + 1} granted, 0 already held`);
      expect(first.out).not.toContain("Not requested");

      stub.requests = [];
      const second = await run(stub, ["--principal-id", stub.identityId, "--include-alerts-polling"]);
      expect(second.code).toBe(0);
      expect(stub.posts()).toEqual([]);
      expect(roleLines(second.out, "Microsoft Graph")).toEqual([`already held  ${ALERTS_POLLING_ROLE}`]);
      expect(second.out).toContain(`0 granted, ${REQUIRED_ROLES.length + 1} already held`);
    });

    it("counts it held when Graph answers that the assignment already exists (another run got there first)", async () => {
      stub.assignments.push(
        ...REQUIRED_ROLES.map((v) => ({
          id: randomUUID(),
          principalId: stub.identityId,
          resourceId: stub.mdeId,
          appRoleId: stub.roleIds.get(v)!,
        })),
      );
      stub.postStatus = {
        status: 400,
        body: { error: { code: "Request_BadRequest", message: "Permission being assigned already exists on the object" } },
      };
      const r = await run(stub, ["--principal-id", stub.identityId, "--include-alerts-polling"]);
      expect(r.code).toBe(0);
      expect(graphPosts()).toHaveLength(1);
      expect(roleLines(r.out, "Microsoft Graph")).toEqual([`already held  ${ALERTS_POLLING_ROLE}`]);
    });

    it("grants nothing on a dry run and names it under Microsoft Graph", async () => {
      const r = await run(stub, ["--principal-id", stub.identityId, "--include-alerts-polling", "--dry-run"]);
      expect(r.code).toBe(0);
      expect(stub.posts()).toEqual([]);
      expect(roleLines(r.out, "Microsoft Graph")).toEqual([`would grant   ${ALERTS_POLLING_ROLE}`]);
      expect(r.out).toContain(`Dry run: ${REQUIRED_ROLES.length + 1} to grant, 0 already held.`);
    });

    it("grants nothing at all, MDE's roles included, when Graph lacks the role as an application role or is not in the tenant", async () => {
      stub.missingRoles = [ALERTS_POLLING_ROLE];
      const missing = await run(stub, ["--principal-id", stub.identityId, "--include-alerts-polling"]);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("(RoleNotFound)");
      expect(missing.err).toContain(
        `Microsoft Graph service principal (appId ${GRAPH_APP_ID}) has no enabled application role ${ALERTS_POLLING_ROLE}`,
      );
      expect(stub.posts()).toEqual([]);

      stub.missingRoles = [];
      stub.graphInTenant = false;
      const absent = await run(stub, ["--principal-id", stub.identityId, "--include-alerts-polling"]);
      expect(absent.code).toBe(1);
      expect(absent.err).toContain("(GraphServicePrincipalNotFound)");
      expect(absent.err).toContain(`az ad sp create --id ${GRAPH_APP_ID}`);
      expect(stub.posts()).toEqual([]);
    });
  });

  it("reports a sign-in failure without calling Graph", async () => {
    const r = await run(stub, ["--principal-id", stub.identityId], new FakeCredential("DefaultAzureCredential failed to retrieve a token"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("(SignInFailed)");
    expect(r.err).toContain("az login");
    expect(stub.requests).toEqual([]);
  });

  it("refuses bad arguments before any request: usage, a non-GUID id, a Graph URL that would leak the token", async () => {
    expect((await run(stub, [])).code).toBe(2);
    const notGuid = await run(stub, ["--principal-id", "id-collector-test"]);
    expect(notGuid.code).toBe(1);
    expect(notGuid.err).toContain("(InvalidPrincipalId)");
    const out: string[] = [];
    const plainHttp = await runGrantPermissions(["--principal-id", stub.identityId, "--graph-url", "http://graph.example.com"], {
      credential: () => new FakeCredential(),
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    expect(plainHttp).toBe(1);
    expect(out.join("\n")).toContain("(InvalidGraphUrl)");
    expect(stub.requests).toEqual([]);
  });
});
