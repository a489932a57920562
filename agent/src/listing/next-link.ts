/**
 * Pagination links (`Link: <…>; rel="next"`) of the tags list and referrers APIs. The origin's link
 * names the origin's path; the client must be sent back to the agent, in the naming it used
 * (rewrite: the registry in the path; mirror: `?ns=`). Only a link to the same endpoint of the same
 * repository is followed: anything else is dropped rather than guessed at.
 */
import type { Naming } from "../../../protocol/distribution-path";

export interface ListingTarget {
  naming: Naming;
  registry: string;
  repo: string;
  /** `tags/list` or `referrers/<digest>`. */
  endpoint: string;
}

const LINK = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
const ORIGIN_BASE = "http://origin.invalid";

/** The query of the origin's rel="next" link, if it points at `originPath` (absolute or relative). */
export function originNextQuery(
  linkHeader: string | undefined,
  originPath: string,
): URLSearchParams | undefined {
  if (!linkHeader) return undefined;
  for (const match of linkHeader.matchAll(LINK)) {
    if (!isRelNext(match[2])) continue;
    let url: URL;
    try {
      url = new URL(match[1], ORIGIN_BASE + originPath);
    } catch {
      continue;
    }
    if (url.pathname === originPath) return url.searchParams;
  }
  return undefined;
}

/** The path and query the client asks the agent for, in its own naming. */
export function agentPath(target: ListingTarget, query: URLSearchParams): string {
  const params = new URLSearchParams(query);
  params.delete("ns");
  const path =
    target.naming === "rewrite"
      ? `/v2/${target.registry}/${target.repo}/${target.endpoint}`
      : `/v2/${target.repo}/${target.endpoint}`;
  if (target.naming === "mirror") params.set("ns", target.registry);
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** The `Link` header value that sends the client to the next page through the agent. */
export function agentNextLink(target: ListingTarget, query: URLSearchParams): string {
  return `<${agentPath(target, query)}>; rel="next"`;
}

function isRelNext(params: string): boolean {
  for (const param of params.split(";")) {
    const [key, ...rest] = param.split("=");
    if (key.trim().toLowerCase() !== "rel") continue;
    const value = rest
      .join("=")
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (value.toLowerCase().split(/\s+/).includes("next")) return true;
  }
  return false;
}
