/**
 * The settings of the Graph `security/alerts_v2` polling route: off unless ALERTS_POLL_SCHEDULE is
 * set, so a deployment without the Graph permission starts cleanly.
 * Graph hosts per cloud: https://learn.microsoft.com/graph/deployments ("Microsoft Graph and Graph
 * Explorer service root endpoints"); a token's scope is the Graph host of that cloud + `/.default`
 * (https://learn.microsoft.com/graph/sdks/national-clouds, "Permission scopes").
 */
import type { SettingProblem } from "../errors";
import { hostRefusal, isLoopbackUrl, type HostAllowList } from "../hostPolicy";
import { parseNcrontab } from "../ncrontab";
import type { SettingsReader } from "../settingsReader";

/** Microsoft Graph service roots: global, US Government L4 (GCC High), L5 (DoD), China (21Vianet). */
export const GRAPH_HOSTS: readonly string[] = [
  "graph.microsoft.com",
  "graph.microsoft.us",
  "dod-graph.microsoft.us",
  "microsoftgraph.chinacloudapi.cn",
];

/** The alerts_v2 poller's validated settings. */
export interface AlertPollingSettings {
  /** NCRONTAB of the timer (ALERTS_POLL_SCHEDULE). */
  schedule: string;
  /** Graph service root without a trailing slash, e.g. `https://graph.microsoft.com` (GRAPH_BASE_URL). */
  graphBaseUrl: string;
  /** `<Graph host>/.default` of the cloud in use. */
  tokenScope: string;
  /** Hosts the base URL and every `@odata.nextLink` may name. */
  allowedHosts: HostAllowList;
  /** Send the development token (loopback simulator with LOCAL_DEVELOPMENT=true only). */
  useDevelopmentToken: boolean;
  /** The first run (no cursor yet) starts this far back (ALERTS_POLL_LOOKBACK_MINUTES). @default 60 */
  lookbackInMs: number;
  /** `$top` of each page (ALERTS_POLL_PAGE_SIZE). @default 100 */
  pageSize: number;
  /** Graph requests (pages) one run makes at most (ALERTS_POLL_MAX_PAGES). @default 10 */
  maxPages: number;
}

/** Largest `$top` asked for: pages stay small enough to handle within one run. */
export const MAX_PAGE_SIZE = 1000;

/**
 * Reads the ALERTS_POLL_* and GRAPH_BASE_URL settings; undefined (and no problem) when
 * ALERTS_POLL_SCHEDULE is unset: the route is off.
 */
export function readAlertPollingSettings(
  reader: SettingsReader,
  problems: SettingProblem[],
  localDevelopment: boolean,
): AlertPollingSettings | undefined {
  const schedule = reader.optional("ALERTS_POLL_SCHEDULE");
  const graphBaseUrl = reader.url("GRAPH_BASE_URL", "https://graph.microsoft.com");
  const lookbackMinutes = reader.positiveInt("ALERTS_POLL_LOOKBACK_MINUTES", 60);
  const pageSize = reader.positiveInt("ALERTS_POLL_PAGE_SIZE", 100);
  if (pageSize > MAX_PAGE_SIZE) problems.push({ setting: "ALERTS_POLL_PAGE_SIZE", problem: `must be at most ${MAX_PAGE_SIZE}` });
  const maxPages = reader.positiveInt("ALERTS_POLL_MAX_PAGES", 10);
  if (schedule === undefined) return undefined;

  const cron = parseNcrontab(schedule);
  if (!cron.ok) problems.push({ setting: "ALERTS_POLL_SCHEDULE", problem: cron.problem });
  const allowedHosts: HostAllowList = { hosts: GRAPH_HOSTS, allowLoopback: localDevelopment };
  let url: URL | undefined;
  if (graphBaseUrl) {
    url = new URL(graphBaseUrl);
    const refusal = hostRefusal(url, allowedHosts);
    if (refusal)
      problems.push({ setting: "GRAPH_BASE_URL", problem: `${refusal} (Microsoft Graph's hosts per cloud: ${GRAPH_HOSTS.join(", ")})` });
    if (url.pathname.replace(/\/+$/, "") !== "" || url.search) {
      problems.push({
        setting: "GRAPH_BASE_URL",
        problem: "must be the service root only (https://graph.microsoft.com): the collector adds /v1.0",
      });
    }
  }
  if (!url) return undefined;
  const loopback = isLoopbackUrl(url.href);
  return {
    schedule,
    graphBaseUrl: url.origin,
    // A loopback simulator gets the global scope; it accepts any bearer token.
    tokenScope: loopback ? "https://graph.microsoft.com/.default" : `${url.origin}/.default`,
    allowedHosts,
    useDevelopmentToken: localDevelopment && loopback,
    lookbackInMs: lookbackMinutes * 60_000,
    pageSize,
    maxPages,
  };
}
