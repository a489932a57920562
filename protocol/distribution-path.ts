/**
 * Parses the pull-only OCI distribution paths the agent serves into a validated value, in both
 * namings of DESIGN 2.1:
 *   rewrite: /v2/<registry-host>/<repo...>/(manifests|blobs)/<ref>
 *   mirror:  /v2/<repo...>/(manifests|blobs)/<ref>?ns=<registry-host>
 * Handlers only ever see the parsed value, never the raw URL.
 */
import { parseDigest } from "./digest";
import { OciError } from "./oci-error";

export type DistributionPath =
  | { kind: "base" }
  | { kind: "manifest"; registry: string; repo: string; reference: string; isDigest: boolean }
  | { kind: "blob"; registry: string; repo: string; digest: string };

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
  const ns = queryAt < 0 ? null : new URLSearchParams(rawUrl.slice(queryAt + 1)).get("ns");
  if (path === "/v2/" || path === "/v2") return { kind: "base" };
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
  if (split.endpoint === "blobs") {
    parseDigest(split.reference);
    return { kind: "blob", registry: registry.toLowerCase(), repo, digest: split.reference };
  }
  const isDigest = split.reference.includes(":");
  if (isDigest) parseDigest(split.reference);
  else if (!TAG.test(split.reference)) throw new OciError("MANIFEST_INVALID", "invalid tag", undefined, 400);
  return { kind: "manifest", registry: registry.toLowerCase(), repo, reference: split.reference, isDigest };
}

function splitEndpoint(rest: string): { name: string; endpoint: "manifests" | "blobs"; reference: string } {
  for (const endpoint of ["manifests", "blobs"] as const) {
    const marker = `/${endpoint}/`;
    const at = rest.lastIndexOf(marker);
    if (at > 0) {
      const reference = rest.slice(at + marker.length);
      if (reference.length === 0 || reference.includes("/"))
        throw new OciError("NAME_INVALID", `malformed ${endpoint} reference`);
      return { name: rest.slice(0, at), endpoint, reference };
    }
  }
  throw new OciError(
    "NAME_INVALID",
    "unsupported endpoint: only manifests and blobs are served",
    undefined,
    404,
  );
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
