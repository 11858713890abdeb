import { isIP } from "node:net";
import { CollectorError, redactUrl } from "../errors";

/** Which download links the collector follows. */
export interface LinkPolicyOptions {
  /**
   * Follow `http://` links to a loopback host (127.0.0.0/8, localhost, [::1]). An explicit
   * local-development setting (Azurite, the simulator); never needed against MDE.
   * @default false
   */
  allowLoopbackHttp?: boolean;
}

/**
 * Checks a download link before any request: `https://` only, or `http://` to loopback when
 * {@link LinkPolicyOptions.allowLoopbackHttp} is set. The link comes from the MDE API; refusing
 * anything else keeps a forged or tampered answer from sending the collector (and its network
 * position) anywhere else, or the evidence over plain HTTP.
 * @returns the parsed URL
 * @throws CollectorError `UntrustedDownloadLink`, with the URL redacted (no SAS signature).
 */
export function checkDownloadLink(link: string, options: LinkPolicyOptions = {}): URL {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw refuse("the link is not a valid absolute URL", "<unparseable url>");
  }
  if (url.username || url.password) throw refuse("links with user credentials are not followed", redactUrl(link));
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:") {
    if (!options.allowLoopbackHttp) throw refuse("plain http is not followed (only https)", redactUrl(link));
    if (!isLoopbackHost(url.hostname)) throw refuse("plain http is followed only to a loopback host", redactUrl(link));
    return url;
  }
  // Only the scheme is named: the rest of a javascript: or data: URL is content, not an address.
  throw refuse(`scheme ${url.protocol} is not followed (only https)`, `${url.protocol}...`);
}

/**
 * 127.0.0.0/8, `localhost` or `[::1]`. Subdomains of localhost are not accepted: resolvers may
 * send them to DNS, so they are not guaranteed to stay on the machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost") return true;
  if (host === "[::1]") return true;
  // WHATWG URL parsing already turned 2130706433 or 0x7f.1 into dotted decimal.
  return isIP(host) === 4 && host.startsWith("127.");
}

function refuse(reason: string, shownUrl: string): CollectorError {
  return new CollectorError("UntrustedDownloadLink", `Download link refused: ${reason}: ${shownUrl}`);
}
