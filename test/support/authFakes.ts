import { HttpRequest } from "@azure/functions";
import { endpointAuth, type EndpointAuth } from "../../functions/auth";
import { loadConfig } from "../../shared/config";
import { bearer, developmentAuthSettings } from "./identity";

/**
 * The endpoint auth an app with AUTH_MODE=development builds: the same validation path as Entra
 * tokens, against this test file's development key (mint tokens with `bearer()`).
 * @param roleScopes - AUTH_ROLE_SCOPES
 */
export async function testEndpointAuth(roleScopes?: unknown): Promise<EndpointAuth> {
  const config = loadConfig({
    LOCAL_DEVELOPMENT: "true",
    EVIDENCE_STORAGE_ACCOUNT_URL: "https://e.blob.core.windows.net",
    ...(await developmentAuthSettings()),
    ...(roleScopes !== undefined ? { AUTH_ROLE_SCOPES: JSON.stringify(roleScopes) } : {}),
  });
  return endpointAuth(config.auth);
}

/** An HTTP request as the host hands it to a handler, with a development token of all three roles unless `authorization` is given. */
export async function authorizedRequest(init: {
  method: string;
  url: string;
  params?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}): Promise<HttpRequest> {
  return new HttpRequest({
    method: init.method,
    url: init.url,
    params: init.params ?? {},
    ...(init.body !== undefined ? { body: { string: init.body } } : {}),
    headers: { "content-type": "application/json", authorization: await bearer(), ...init.headers },
  });
}
