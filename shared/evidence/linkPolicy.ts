import { CollectorError, redactUrl } from "../errors";
import { BLOB_HOST_PATTERNS, hostRefusal, type HostAllowList } from "../hostPolicy";

/** The hosts download links may name when none are given: Azure Storage blob endpoints, no loopback. */
export const DEFAULT_SOURCE_HOSTS: HostAllowList = { hosts: BLOB_HOST_PATTERNS, allowLoopback: false };

/** Which download links the collector follows. */
export interface LinkPolicyOptions {
  /**
   * Hosts a link may name: MDE hands out Azure Storage blob SAS URLs. Loopback (Azurite, the
   * simulator) only in local development.
   * @default DEFAULT_SOURCE_HOSTS
   */
  sourceHosts?: HostAllowList;
}

/**
 * Checks a download link before any request: https to an allowed host, or http(s) to loopback when
 * the allow-list allows it. The link comes from the MDE API; refusing anything else keeps a forged
 * or tampered answer from sending the collector (and its network position: an instance metadata
 * address, an internal service) anywhere else, or the evidence over plain HTTP.
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
  // Only the scheme is named for anything but http(s): the rest of a javascript: or data: URL is content, not an address.
  const shown = url.protocol === "https:" || url.protocol === "http:" ? redactUrl(link) : `${url.protocol}...`;
  const refusal = hostRefusal(url, options.sourceHosts ?? DEFAULT_SOURCE_HOSTS);
  if (refusal) throw refuse(refusal, shown);
  return url;
}

function refuse(reason: string, shownUrl: string): CollectorError {
  return new CollectorError("UntrustedDownloadLink", `Download link refused: ${reason}: ${shownUrl}`);
}
