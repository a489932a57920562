/**
 * Parses the pull-only OCI distribution paths the agent serves into a validated value, in both
 * namings of DESIGN 2.1:
 *   rewrite: /v2/<registry-host>/<repo...>/<endpoint>
 *   mirror:  /v2/<repo...>/<endpoint>?ns=<registry-host>
 * where <endpoint> is manifests/<ref>, blobs/<digest>, tags/list (?n=&last=) or
 * referrers/<digest> (?artifactType=). Handlers only ever see the parsed value, never the raw URL.
 */
import { parseDigest } from "./digest";
import { OciError } from "./oci-error";

/** How the request named its registry: in the path (rewrite) or in `?ns=` (mirror). */
export type Naming = "rewrite" | "mirror";

export type DistributionPath =
  | { kind: "base"; registry?: string }
  | { kind: "manifest"; registry: string; repo: string; reference: string; isDigest: boolean }
  | { kind: "blob"; registry: string; repo: string; digest: string }
  | (Listing & { kind: "tags"; n?: number; last?: string })
  | (Listing & { kind: "referrers"; digest: string; artifactType?: string });

/** Tags list and referrers: paginated, with the query (less `ns`) to pass on to the origin. */
interface Listing {
  registry: string;
  repo: string;
  naming: Naming;
  /** The request's query without `ns`, e.g. `n=2&last=b`, or an origin's opaque page token. */
  query: string;
}

type Endpoint = "manifests" | "blobs" | "referrers" | "tags";
const MAX_PAGE_SIZE = 100_000;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?$/;
const MAX_NAME_LENGTH = 255;
const MAX_URL_LENGTH = 4096;

/** True when `host` is a syntactically valid registry host (domain or IPv4, optional port). */
export function isRegistryHost(host: string): boolean {
  return host.length <= 253 && HOST.test(host);
}

export function parseDistributionPath(rawUrl: string): DistributionPath {
  if (rawUrl.length > MAX_URL_LENGTH) throw new OciError("NAME_INVALID", "request URL too long");
  const queryAt = rawUrl.indexOf("?");
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? "" : rawUrl.slice(queryAt + 1));
  const ns = query.get("ns");
  if (path === "/v2/" || path === "/v2")
    return ns === null ? { kind: "base" } : { kind: "base", registry: checkHost(ns).toLowerCase() };
  if (!path.startsWith("/v2/"))
    throw new OciError("NAME_INVALID", "path must start with /v2/", undefined, 404);
  if (path.includes("%"))
    throw new OciError("NAME_INVALID", "percent-encoded characters are not allowed in names");

  const rest = path.slice("/v2/".length);
  if (/\/blobs\/uploads(\/|$)/.test(rest))
    throw new OciError("UNSUPPORTED", "pushes are not supported: this is a pull-only mirror");
  const split = splitEndpoint(rest);
  const { registry, repo } =
    ns === null ? splitRewriteName(split.name) : { registry: checkHost(ns), repo: split.name };
  checkRepo(repo);
  const naming: Naming = ns === null ? "rewrite" : "mirror";
  const forwarded = new URLSearchParams(query);
  forwarded.delete("ns");
  const listing = { registry: registry.toLowerCase(), repo, naming, query: forwarded.toString() };
  if (split.endpoint === "tags") return { kind: "tags", ...listing, ...page(query) };
  if (split.endpoint === "blobs" || split.endpoint === "referrers") parseDigest(split.reference);
  if (split.endpoint === "blobs")
    return { kind: "blob", registry: registry.toLowerCase(), repo, digest: split.reference };
  if (split.endpoint === "referrers") {
    const artifactType = query.get("artifactType") ?? undefined;
    return {
      kind: "referrers",
      ...listing,
      digest: split.reference,
      ...(artifactType ? { artifactType } : {}),
    };
  }
  const isDigest = split.reference.includes(":");
  if (isDigest) parseDigest(split.reference);
  else if (!TAG.test(split.reference)) throw new OciError("MANIFEST_INVALID", "invalid tag", undefined, 400);
  return { kind: "manifest", registry: registry.toLowerCase(), repo, reference: split.reference, isDigest };
}

/** The name and endpoint; the endpoint marker is the last one in the path (a repo may be called `blobs`). */
function splitEndpoint(rest: string): { name: string; endpoint: Endpoint; reference: string } {
  if (rest.endsWith("/tags/list"))
    return { name: rest.slice(0, -"/tags/list".length), endpoint: "tags", reference: "" };
  let best: { at: number; endpoint: Exclude<Endpoint, "tags"> } | undefined;
  for (const endpoint of ["manifests", "blobs", "referrers"] as const) {
    const at = rest.lastIndexOf(`/${endpoint}/`);
    if (at > 0 && (best === undefined || at > best.at)) best = { at, endpoint };
  }
  if (best === undefined)
    throw new OciError(
      "NAME_INVALID",
      "unsupported endpoint: manifests, blobs, tags/list and referrers are served",
      undefined,
      404,
    );
  const reference = rest.slice(best.at + best.endpoint.length + 2);
  if (reference.length === 0 || reference.includes("/"))
    throw new OciError("NAME_INVALID", `malformed ${best.endpoint} reference`);
  return { name: rest.slice(0, best.at), endpoint: best.endpoint, reference };
}

/** `n` and `last` of a tags list request; a bad `n` is PAGINATION_NUMBER_INVALID as in distribution. */
function page(query: URLSearchParams): { n?: number; last?: string } {
  const n = query.get("n");
  const last = query.get("last");
  const result: { n?: number; last?: string } = {};
  if (n !== null) {
    if (!/^[0-9]{1,9}$/.test(n) || Number(n) > MAX_PAGE_SIZE)
      throw new OciError("PAGINATION_NUMBER_INVALID", `n must be an integer 0-${MAX_PAGE_SIZE}`);
    result.n = Number(n);
  }
  if (last !== null && last !== "") result.last = last;
  return result;
}

function splitRewriteName(name: string): { registry: string; repo: string } {
  const slash = name.indexOf("/");
  if (slash < 0)
    throw new OciError("NAME_INVALID", "name must start with the registry host (rewrite naming)");
  return { registry: checkHost(name.slice(0, slash)), repo: name.slice(slash + 1) };
}

function checkHost(host: string): string {
  if (!isRegistryHost(host))
    throw new OciError("NAME_INVALID", `invalid registry host ${JSON.stringify(host.slice(0, 80))}`);
  return host;
}

function checkRepo(repo: string): void {
  if (repo.length === 0 || repo.length > MAX_NAME_LENGTH)
    throw new OciError("NAME_INVALID", `repository name must be 1-${MAX_NAME_LENGTH} characters`);
  for (const component of repo.split("/")) {
    if (!PATH_COMPONENT.test(component))
      throw new OciError(
        "NAME_INVALID",
        `invalid repository name component ${JSON.stringify(component.slice(0, 80))}`,
      );
  }
}
