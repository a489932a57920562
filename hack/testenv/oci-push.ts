// Raw distribution-API pushes for what skopeo cannot make: extra tags for a manifest, and artifacts
// that refer to an image (`subject`), pushed as ORAS does to a registry without the referrers API:
// the artifact manifest, then the spec's fallback tag `<alg>-<ref>` updated to an image index that
// lists it. Plain fetch with Basic credentials (what htpasswd-protected docker-registry accepts).
import { createHash } from "node:crypto";
import { MEDIA, type Descriptor } from "./oci-image";
import type { Credentials, Registry } from "./registry";

type Target = Pick<Registry, "url">;

export interface ArtifactDescriptor extends Descriptor {
  artifactType: string;
}

const EMPTY = { mediaType: "application/vnd.oci.empty.v1+json", bytes: Buffer.from("{}") };

function headers(creds?: Credentials, extra: Record<string, string> = {}): Record<string, string> {
  return creds
    ? {
        ...extra,
        authorization: "Basic " + Buffer.from(`${creds.user}:${creds.password}`).toString("base64"),
      }
    : extra;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function expectStatus(res: Response, want: number, what: string): Promise<void> {
  if (res.status !== want) throw new Error(`${what}: ${res.status} ${await res.text()}`);
}

/** Monolithic upload (POST then PUT ?digest=). */
export async function putBlob(
  registry: Target,
  repo: string,
  bytes: Buffer,
  mediaType: string,
  creds?: Credentials,
): Promise<Descriptor> {
  const digest = sha256(bytes);
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, {
    method: "POST",
    headers: headers(creds),
  });
  await expectStatus(start, 202, `start upload to ${repo}`);
  const location = new URL(start.headers.get("location") ?? "", registry.url);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: headers(creds, { "content-type": "application/octet-stream" }),
    body: bytes,
  });
  await expectStatus(put, 201, `upload ${digest}`);
  return { mediaType, digest, size: bytes.length };
}

export async function putManifest(
  registry: Target,
  repo: string,
  reference: string,
  body: Buffer,
  mediaType: string,
  creds?: Credentials,
): Promise<Descriptor> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    headers: headers(creds, { "content-type": mediaType }),
    body,
  });
  await expectStatus(res, 201, `put manifest ${repo}:${reference}`);
  return { mediaType, digest: sha256(body), size: body.length };
}

/** The manifest bytes stored under `reference`, or undefined on 404. */
export async function getManifest(
  registry: Target,
  repo: string,
  reference: string,
  accept: string,
  creds?: Credentials,
): Promise<Buffer | undefined> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, {
    headers: headers(creds, { accept }),
  });
  if (res.status === 404) return undefined;
  await expectStatus(res, 200, `get manifest ${repo}:${reference}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Tags the manifest stored under `from` as each of `tags` too. */
export async function tagManifest(
  registry: Target,
  repo: string,
  from: string,
  tags: string[],
  creds?: Credentials,
): Promise<void> {
  const accept = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest].join(", ");
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${from}`, {
    headers: headers(creds, { accept }),
  });
  await expectStatus(res, 200, `get ${repo}:${from}`);
  const mediaType = res.headers.get("content-type") ?? MEDIA.ociManifest;
  const body = Buffer.from(await res.arrayBuffer());
  for (const tag of tags) await putManifest(registry, repo, tag, body, mediaType, creds);
}

/**
 * An artifact (one small layer, empty config) whose `subject` is `subject`, and the fallback tag
 * index `<alg>-<hex>` extended with it, as a client does where the referrers API is missing.
 */
export async function pushReferrer(
  registry: Target,
  repo: string,
  subject: Descriptor,
  artifactType: string,
  payload: string,
  creds?: Credentials,
): Promise<ArtifactDescriptor> {
  const config = await putBlob(registry, repo, EMPTY.bytes, EMPTY.mediaType, creds);
  const layer = await putBlob(registry, repo, Buffer.from(payload), "application/octet-stream", creds);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
  const pushed = await putManifest(registry, repo, sha256(manifest), manifest, MEDIA.ociManifest, creds);
  const descriptor = { ...pushed, artifactType };

  const tag = subject.digest.replace(":", "-");
  const existing = await getManifest(registry, repo, tag, MEDIA.ociIndex, creds);
  const index: { manifests: unknown[] } = existing
    ? JSON.parse(existing.toString())
    : { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
  index.manifests.push(descriptor);
  await putManifest(registry, repo, tag, Buffer.from(JSON.stringify(index)), MEDIA.ociIndex, creds);
  return descriptor;
}
