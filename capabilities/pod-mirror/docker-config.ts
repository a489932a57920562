/**
 * Pure: read pull secrets (kubernetes.io/dockerconfigjson and legacy kubernetes.io/dockercfg), find
 * the credentials they hold per registry, and build the derived secret whose keys point kubelet at
 * the node-local endpoint.
 */
import { V1Secret } from "@kubernetes/client-node";
import { normaliseRegistryHost } from "../../protocol/image-reference";

export type AuthEntry = Record<string, unknown>;

/** One credential of a pull secret: the registry host, an optional path scope, the entry as written. */
export interface Credential {
  registry: string;
  /** Repository path prefix the key was scoped to ("" = whole registry). */
  path: string;
  entry: AuthEntry;
}

export const DERIVED_PREFIX = "acr-credential-";
export const DERIVED_SUFFIX = "-p2p";
export const DERIVED_LABEL = "peerpull.io/derived-from";
const MAX_SECRET_NAME = 253;

export function derivedSecretName(original: string): string | undefined {
  const name = `${DERIVED_PREFIX}${original}${DERIVED_SUFFIX}`;
  return name.length <= MAX_SECRET_NAME ? name : undefined;
}

export function isDerivedSecret(secret: V1Secret): boolean {
  return secret.metadata?.labels?.[DERIVED_LABEL] !== undefined;
}

/** Credentials of a pull secret; an unreadable or foreign secret has none. */
export function readCredentials(secret: V1Secret): Credential[] {
  const auths = readAuths(secret);
  const out: Credential[] = [];
  for (const [key, entry] of Object.entries(auths)) {
    const parsed = parseAuthKey(key);
    if (parsed && entry !== null && typeof entry === "object" && !Array.isArray(entry))
      out.push({ ...parsed, entry: entry as AuthEntry });
  }
  return out;
}

/** The credential kubelet would pick for (registry, repository): the longest matching path. */
export function credentialFor(
  credentials: readonly Credential[],
  registry: string,
  repository: string,
): Credential | undefined {
  let best: Credential | undefined;
  for (const cred of credentials) {
    if (cred.registry !== registry) continue;
    if (cred.path && repository !== cred.path && !repository.startsWith(cred.path + "/")) continue;
    if (!best || cred.path.length > best.path.length) best = cred;
  }
  return best;
}

/**
 * The derived secret for `original`: every credential it holds for an accelerated registry, keyed
 * `127.0.0.1:<port>/<registry>/[<path>]` so kubelet's path-prefix matching selects it for rewritten
 * images of that registry only. Undefined when the original holds nothing for an accelerated registry.
 */
export function deriveSecret(
  original: V1Secret,
  port: number,
  accelerated: ReadonlySet<string>,
): V1Secret | undefined {
  const name = original.metadata?.name;
  const namespace = original.metadata?.namespace;
  const derivedName = name ? derivedSecretName(name) : undefined;
  if (!name || !namespace || !derivedName || isDerivedSecret(original)) return undefined;
  const auths: Record<string, AuthEntry> = {};
  for (const cred of readCredentials(original)) {
    if (!accelerated.has(cred.registry)) continue;
    // The slash after the registry matters: kubelet matches paths as plain string prefixes, so
    // `127.0.0.1:65001/registry.test` would also hand these credentials to `registry.testing`.
    auths[`127.0.0.1:${port}/${cred.registry}/${cred.path}`] = cred.entry;
  }
  if (Object.keys(auths).length === 0) return undefined;
  const uid = original.metadata?.uid;
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: {
      name: derivedName,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "peerpull", [DERIVED_LABEL]: name },
      ...(uid
        ? { ownerReferences: [{ apiVersion: "v1", kind: "Secret", name, uid, blockOwnerDeletion: false }] }
        : {}),
    },
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify({ auths })).toString("base64") },
  };
}

function readAuths(secret: V1Secret): Record<string, unknown> {
  const json = decodeKey(secret, ".dockerconfigjson");
  if (json !== undefined) {
    const parsed = parseJson(json);
    const auths = isRecord(parsed) ? parsed.auths : undefined;
    return isRecord(auths) ? auths : {};
  }
  const legacy = decodeKey(secret, ".dockercfg");
  const parsed = legacy === undefined ? undefined : parseJson(legacy);
  return isRecord(parsed) ? parsed : {};
}

function decodeKey(secret: V1Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  // Pepr hands Secrets to Mutate bindings with data already decoded; Watch bindings get base64
  if (typeof encoded === "string")
    return encoded.trimStart().startsWith("{") ? encoded : Buffer.from(encoded, "base64").toString("utf8");
  const plain = secret.stringData?.[key];
  return typeof plain === "string" ? plain : undefined;
}

/**
 * Keys are written as "host", "https://host", "host/v1/", "https://index.docker.io/v1/" or
 * "host/some/path" (a path scope). Wildcard keys ("*.example.com") are not followed.
 */
function parseAuthKey(key: string): { registry: string; path: string } | undefined {
  const bare = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = bare.indexOf("/");
  const host = slash < 0 ? bare : bare.slice(0, slash);
  if (!host || host.includes("*")) return undefined;
  let path = slash < 0 ? "" : bare.slice(slash + 1).replace(/\/+$/, "");
  if (/^v[12]$/.test(path)) path = "";
  return { registry: normaliseRegistryHost(host), path };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
