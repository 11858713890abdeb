/**
 * The few Microsoft Graph v1.0 calls an administrator's script makes (GET, GET every page, POST), signed in
 * with a TokenCredential for `{graph}/.default`. Failures come back as {@link GraphError} with a code and a
 * message that says what to do, never with the token.
 */
import type { TokenCredential } from "@azure/identity";

/** A Graph or sign-in failure, with a stable code for the CLI's output. */
export class GraphError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GraphClientOptions {
  /** https://graph.microsoft.com, or the national cloud's Graph host. */
  graphBaseUrl: string;
  credential: TokenCredential;
  fetch?: typeof fetch;
}

/** Per-status overrides: a status the caller can explain better than the generic message. */
export type StatusExplanations = Record<number, () => GraphError>;

/** The client; throws GraphError("InvalidGraphUrl") for a host the token must not be sent to. */
export function graphClient(options: GraphClientOptions) {
  const base = new URL(options.graphBaseUrl);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(base.hostname);
  if (base.protocol !== "https:" && !(base.protocol === "http:" && loopback)) {
    throw new GraphError("InvalidGraphUrl", `--graph-url must be https:// (got ${options.graphBaseUrl}); the token is sent there`);
  }
  const root = `${base.origin}/v1.0`;
  const doFetch = options.fetch ?? fetch;
  const scope = `${base.origin}/.default`;
  let token: string | undefined;

  async function authorization(): Promise<string> {
    if (!token) {
      try {
        const t = await options.credential.getToken(scope);
        if (!t) throw new Error("no token");
        token = t.token;
      } catch (e) {
        throw new GraphError(
          "SignInFailed",
          `Could not get a token for ${scope}: ${(e as Error).message.split("\n")[0].replace(/\.+$/, "")}. Sign in with \`az login\` (or \`azd auth login\`) as an administrator first.`,
        );
      }
    }
    return `Bearer ${token}`;
  }

  async function send(
    method: "GET" | "POST",
    url: string,
    body?: unknown,
    on?: StatusExplanations,
  ): Promise<{ status: number; json: unknown }> {
    const response = await doFetch(url, {
      method,
      headers: {
        Authorization: await authorization(),
        Accept: "application/json",
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.ok) return { status: response.status, json };
    const special = on?.[response.status];
    if (special) throw special();
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    const path = url.slice(root.length).split("?")[0];
    const detail = `${method} ${path}: ${response.status} ${error?.code ?? ""} ${error?.message ?? text.slice(0, 200)}`
      .replace(/\s+/g, " ")
      .trim();
    if (response.status === 401)
      throw new GraphError("Unauthenticated", `Microsoft Graph refused the token (${detail}). Sign in again with \`az login\`.`);
    if (response.status === 403) {
      throw new GraphError(
        "Forbidden",
        `Microsoft Graph denied ${method} ${path} (${detail}). Granting app roles needs the Graph permissions AppRoleAssignment.ReadWrite.All and Application.Read.All: sign in as an administrator who holds them (for example a Privileged Role Administrator), or run this with an identity granted them.`,
      );
    }
    throw new GraphError(error?.code || `Http${response.status}`, `Microsoft Graph failed: ${detail}`);
  }

  return {
    async get<T>(path: string, on?: StatusExplanations): Promise<T> {
      return (await send("GET", `${root}${path}`, undefined, on)).json as T;
    },
    /** Every item of a collection, following @odata.nextLink (only links on the same Graph host). */
    async getAll<T>(path: string): Promise<T[]> {
      const items: T[] = [];
      for (let url: string | undefined = `${root}${path}`; url;) {
        const page = (await send("GET", url)).json as { value: T[]; "@odata.nextLink"?: string };
        items.push(...page.value);
        const next = page["@odata.nextLink"];
        if (next && new URL(next).origin !== base.origin)
          throw new GraphError("UnexpectedNextLink", `Graph returned a next link on another host: ${new URL(next).origin}`);
        url = next;
      }
      return items;
    },
    /** True when created; false when Graph says the object already exists. */
    async post(path: string, body: unknown): Promise<boolean> {
      try {
        await send("POST", `${root}${path}`, body);
        return true;
      } catch (e) {
        if (e instanceof GraphError && /already exists/i.test(e.message)) return false;
        throw e;
      }
    },
  };
}

/** The client {@link graphClient} returns. */
export type GraphClient = ReturnType<typeof graphClient>;
