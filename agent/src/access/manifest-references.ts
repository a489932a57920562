/**
 * The blobs a manifest the origin served may pre-authorize (DESIGN 2.2). Every byte of a manifest is
 * chosen by whoever pushed it, so only descriptors a registry must verify on push count: an image
 * manifest's config and layers, which the registry refuses to store unless those blobs already exist
 * in the same repository (so the pusher could read them). Nothing else grants: not `subject`
 * (distribution stores it unchecked), not descriptors with `urls` or of foreign / non-distributable
 * layer types (registries skip the existence check for those), not image indexes (their children are
 * manifests, always proxied), not unknown shapes. Any other blob costs one HEAD at the origin.
 */

export interface Reference {
  digest: string;
  size?: number;
}

/** More descriptors than any real image has: past this the HEAD check covers the rest. */
export const MAX_GRANTED_REFERENCES = 512;
/**
 * Image manifests are a few KiB (a 100-layer image is ~20 KiB). A larger one is not parsed for
 * grants at all: parsing megabytes per request is memory an attacker could make the agent spend.
 */
export const MAX_GRANTING_MANIFEST_BYTES = 256 * 1024;

const IMAGE_MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);

interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  urls?: unknown;
}

/** `contentType` is the origin's Content-Type; the body's own `mediaType`, when present, must agree. */
export function manifestReferences(body: Buffer, contentType: string | undefined): Reference[] {
  if (body.length > MAX_GRANTING_MANIFEST_BYTES) return [];
  const doc = parseObject(body);
  if (!doc || !isImageManifest(doc, contentType)) return [];
  const descriptors = [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : [])];
  return descriptors.flatMap(toReference).slice(0, MAX_GRANTED_REFERENCES);
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(body.toString("utf8"));
    return typeof doc === "object" && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isImageManifest(doc: Record<string, unknown>, contentType: string | undefined): boolean {
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const served = contentType?.split(";")[0].trim().toLowerCase();
  if (declared !== undefined && served !== undefined && declared !== served) return false;
  const type = declared ?? served;
  return type !== undefined && IMAGE_MANIFEST_TYPES.has(type) && doc.schemaVersion === 2;
}

function toReference(value: unknown): Reference[] {
  if (typeof value !== "object" || value === null) return [];
  const { mediaType, digest, size, urls } = value as Descriptor;
  if (typeof digest !== "string") return [];
  if (urls !== undefined) return [];
  if (typeof mediaType === "string" && isForeignLayer(mediaType)) return [];
  const known = typeof size === "number" && Number.isSafeInteger(size) && size >= 0;
  return [{ digest, size: known ? size : undefined }];
}

function isForeignLayer(mediaType: string): boolean {
  return mediaType.includes(".foreign.") || mediaType.includes(".nondistributable.");
}
