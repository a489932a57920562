/**
 * The one container image reference parser of the project (distribution/reference grammar plus the
 * docker.io normalisation containerd and kubelet apply). Pure: no I/O.
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path-component ["/" path-component]*
 */
import { SHA256_HEX } from "./digest";

export interface ImageReference {
  /** Normalised registry host, e.g. "docker.io", "registry.example.com", "localhost:5000". */
  registry: string;
  /** Repository path inside the registry, e.g. "library/nginx". */
  repository: string;
  tag?: string;
  digest?: string;
}

export class ImageReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageReferenceError";
  }
}

export const DOCKER_HUB = "docker.io";
/** distribution/reference NameTotalLengthMax: registry and repository together. */
export const MAX_NAME_LENGTH = 255;
const MAX_REFERENCE_LENGTH = 4096;

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** Parses and normalises an image reference; throws ImageReferenceError with the reason. */
export function parseImageReference(text: string): ImageReference {
  if (typeof text !== "string" || text.length === 0) throw new ImageReferenceError("empty reference");
  if (text.length > MAX_REFERENCE_LENGTH) throw new ImageReferenceError("reference too long");
  const { name, tag, digest } = splitReference(text);
  if (SHA256_HEX.test(name))
    throw new ImageReferenceError("a 64-character hex string is an image id, not a repository name");
  const { registry, repository } = splitDomain(name);
  checkName(registry, repository);
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

export function tryParseImageReference(text: string): ImageReference | undefined {
  try {
    return parseImageReference(text);
  } catch {
    return undefined;
  }
}

/** Canonical form: "registry/repository[:tag][@digest]". */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? "" : ":" + ref.tag}${
    ref.digest === undefined ? "" : "@" + ref.digest
  }`;
}

/** "index.docker.io" and "registry-1.docker.io" are docker.io; hosts compare case-insensitively. */
export function normaliseRegistryHost(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

function splitReference(text: string): { name: string; tag?: string; digest?: string } {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageReferenceError(`invalid tag ${JSON.stringify(tag.slice(0, 140))}`);
  }
  return { name: rest, tag, digest };
}

function checkDigest(digest: string): void {
  if (!DIGEST.test(digest)) throw new ImageReferenceError("invalid digest format");
  const [algorithm, hex] = digest.split(":");
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) throw new ImageReferenceError(`unsupported digest algorithm ${algorithm}`);
  if (hex.length !== length || hex !== hex.toLowerCase())
    throw new ImageReferenceError(`${algorithm} digest must be ${length} lowercase hex characters`);
}

/**
 * The first component is a registry when it contains "." or ":", is "localhost", or has an
 * uppercase letter (repository paths cannot, so distribution/reference reads it as a host).
 */
function splitDomain(name: string): { registry: string; repository: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const isHost =
    slash >= 0 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  if (!isHost) return dockerHub(name);
  if (!DOMAIN.test(first)) throw new ImageReferenceError(`invalid registry host ${JSON.stringify(first)}`);
  const registry = normaliseRegistryHost(first);
  const repository = name.slice(slash + 1);
  return registry === DOCKER_HUB ? dockerHub(repository) : { registry, repository };
}

function dockerHub(repository: string): { registry: string; repository: string } {
  return {
    registry: DOCKER_HUB,
    repository: repository.includes("/") ? repository : `library/${repository}`,
  };
}

function checkName(registry: string, repository: string): void {
  if (repository.length === 0) throw new ImageReferenceError("empty repository");
  if (repository !== repository.toLowerCase())
    throw new ImageReferenceError("repository name must be lowercase");
  for (const component of repository.split("/"))
    if (!PATH_COMPONENT.test(component))
      throw new ImageReferenceError(
        `invalid repository path component ${JSON.stringify(component.slice(0, 80))}`,
      );
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH)
    throw new ImageReferenceError(`repository name must not be longer than ${MAX_NAME_LENGTH} characters`);
}
