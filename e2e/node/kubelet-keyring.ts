/**
 * Pure: which credentials kubelet hands the container runtime for an image, given the pod's pull
 * secrets. Written from the behaviour of kubelet's `pkg/credentialprovider/keyring.go` and
 * `kuberuntime_image.go` (described, not copied), so the e2e suites check the module's derived
 * secrets against kubelet's rules rather than against the module's own matcher:
 *
 * - Secrets of type `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`, its `auths`) and
 *   `kubernetes.io/dockercfg` (`.dockercfg`) count; any other type is ignored. An entry's `auth`
 *   (base64 `user:password`) wins over its `username`/`password`.
 * - A key is read as a URL (`https://` added when it has no `http(s)://`): its host (with port) plus
 *   its path, where a leading `/v1/` or `/v2/` is dropped and a path of `/` means the whole host.
 * - Keys are deduplicated and sorted in reverse string order, so `host/team/app` is tried before
 *   `host/team`, which is tried before `host`.
 * - A key matches the image's repository (tag and digest removed, `docker.io/library/` added to short
 *   names) when the ports are equal, the hosts have as many dot-separated parts and each part
 *   matches as a glob (`*.example.com`), and the key's path is a string prefix of the repository's.
 * - Every matching credential is returned in that order; kubelet calls PullImage with each until
 *   one succeeds. No match: the `index.docker.io` credential for Docker Hub images, else none (the
 *   pull is made without credentials).
 */
import { V1Secret } from "@kubernetes/client-node";
import { tryParseImageReference } from "../../protocol/image-reference";

export interface PullCredential {
  username: string;
  password: string;
  /** The keyring key that matched, e.g. "127.0.0.1:65001/registry.test". */
  key: string;
}

interface KeyringEntry {
  key: string;
  creds: { username: string; password: string }[];
}

/** Keys in the order kubelet tries them (reverse string order), each with its credentials. */
export type Keyring = readonly KeyringEntry[];

const DOCKER_HUB_KEY = "index.docker.io";

export class KeyringError extends Error {}

/** kubelet's MakeDockerKeyring over the pod's pull secrets (a secret it cannot parse fails the pull). */
export function keyringFromSecrets(secrets: readonly V1Secret[]): Keyring {
  const byKey = new Map<string, { username: string; password: string }[]>();
  for (const secret of secrets) {
    for (const [location, entry] of Object.entries(dockerConfigOf(secret))) {
      const key = keyFor(location);
      if (key === undefined) continue;
      byKey.set(key, [...(byKey.get(key) ?? []), credentialOf(entry)]);
    }
  }
  return [...byKey.keys()]
    .sort()
    .reverse()
    .map(key => ({ key, creds: byKey.get(key)! }));
}

/** The repository kubelet looks credentials up for: the normalised name without tag or digest. */
export function repositoryToPull(image: string): string {
  const ref = tryParseImageReference(image);
  if (!ref) throw new KeyringError(`invalid image reference ${JSON.stringify(image)}`);
  return `${ref.registry}/${ref.repository}`;
}

/** Every credential kubelet would try for `image`, in order; [] means an anonymous pull. */
export function credentialsFor(keyring: Keyring, image: string): PullCredential[] {
  const repository = repositoryToPull(image);
  const found = keyring
    .filter(entry => keyMatches(entry.key, repository))
    .flatMap(entry => entry.creds.map(c => ({ ...c, key: entry.key })));
  if (found.length > 0) return found;
  const hub = keyring.find(entry => entry.key === DOCKER_HUB_KEY);
  return hub && isDockerHub(repository) ? hub.creds.map(c => ({ ...c, key: hub.key })) : [];
}

function dockerConfigOf(secret: V1Secret): Record<string, unknown> {
  const field =
    secret.type === "kubernetes.io/dockerconfigjson"
      ? ".dockerconfigjson"
      : secret.type === "kubernetes.io/dockercfg"
        ? ".dockercfg"
        : undefined;
  const encoded = field ? secret.data?.[field] : undefined;
  if (!field || !encoded) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch (err) {
    throw new KeyringError(`secret ${secret.metadata?.name}: ${field} is not JSON`, { cause: err });
  }
  const config = field === ".dockerconfigjson" ? (parsed as { auths?: unknown })?.auths : parsed;
  return isRecord(config) ? config : {};
}

function credentialOf(entry: unknown): { username: string; password: string } {
  const e = isRecord(entry) ? entry : {};
  if (typeof e.auth === "string" && e.auth !== "") {
    const decoded = Buffer.from(e.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new KeyringError("an auth field is not base64 of user:password");
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { username: String(e.username ?? ""), password: String(e.password ?? "") };
}

/** A dockercfg location as a keyring key: host[:port] plus the path, /v1/ and /v2/ dropped. */
export function keyFor(location: string): string | undefined {
  const bare = location.replace(/^https?:\/\//, "");
  const { host, path } = splitLocation(bare);
  if (!host) return undefined;
  const effective = /^\/v[12]\//.test(path) ? path.slice(3) : path;
  return effective === "" || effective === "/" ? host : host + effective;
}

function splitLocation(schemeless: string): { host: string; path: string } {
  const cut = schemeless.search(/[/?#]/);
  const host = cut < 0 ? schemeless : schemeless.slice(0, cut);
  const rest = cut < 0 ? "" : schemeless.slice(cut);
  return { host, path: rest.startsWith("/") ? rest.replace(/[?#].*$/, "") : "" };
}

/** kubelet's urlsMatch: same port, same number of host parts, each a glob match, path prefix. */
export function keyMatches(key: string, repository: string): boolean {
  const glob = splitLocation(key);
  const target = splitLocation(repository);
  const [globHost, globPort] = hostAndPort(glob.host);
  const [targetHost, targetPort] = hostAndPort(target.host);
  if (globPort !== targetPort) return false;
  const globParts = globHost.split(".");
  const targetParts = targetHost.split(".");
  if (globParts.length !== targetParts.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return globParts.every((part, i) => globMatch(part, targetParts[i]));
}

function hostAndPort(host: string): [string, string] {
  const m = /^(.*):(\d*)$/.exec(host);
  return m && !m[1].includes(":") ? [m[1], m[2]] : [host, ""];
}

/** filepath.Match for one host part: `*` and `?` never cross a dot (parts hold none anyway). */
function globMatch(pattern: string, text: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(text);
}

/** kubelet's isDefaultRegistryMatch on a normalised repository. */
function isDockerHub(repository: string): boolean {
  const [first] = repository.split("/", 1);
  return first === "docker.io" || first === "index.docker.io" || !/[.:]/.test(first);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
