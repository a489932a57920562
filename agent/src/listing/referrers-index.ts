/**
 * The referrers API's answer: an image index of the manifests whose `subject` is a digest. From a
 * registry with the API, its index (filtered here by artifactType when the registry did not); from
 * one without, the index the spec's fallback tag `<alg>-<ref>` holds; with neither, an empty index.
 * Nothing here is granted to anyone: descriptors are listed, never authorized.
 */
export const INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";

export interface ReferrersIndex {
  body: Buffer;
  /** True when the body was filtered by the requested artifactType (OCI-Filters-Applied). */
  filtered: boolean;
}

interface Index {
  manifests: { artifactType?: unknown }[];
  [field: string]: unknown;
}

/** The fallback tag: `<alg>-<ref>`, at most 128 characters (sha256: `sha256-<64 hex>`). */
export function referrersTag(digest: string): string {
  return digest.replace(":", "-").slice(0, 128);
}

export function emptyReferrersIndex(artifactType?: string): ReferrersIndex {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [] }));
  return { body, filtered: artifactType !== undefined };
}

/** Parses an image index; undefined when the bytes are not one. */
export function parseIndex(body: Buffer): Index | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const index = doc as Partial<Index>;
  if (index.mediaType !== undefined && index.mediaType !== INDEX_MEDIA_TYPE) return undefined;
  if (!Array.isArray(index.manifests)) return undefined;
  if (!index.manifests.every(d => typeof d === "object" && d !== null && !Array.isArray(d))) return undefined;
  return index as Index;
}

/**
 * The answer from an index: verbatim when no filter is asked or the origin already applied it;
 * otherwise re-encoded with only the descriptors of that artifactType.
 */
export function referrersFromIndex(
  body: Buffer,
  index: Index,
  artifactType: string | undefined,
  originFiltered: boolean,
): ReferrersIndex {
  if (artifactType === undefined) return { body, filtered: false };
  if (originFiltered) return { body, filtered: true };
  const manifests = index.manifests.filter(descriptor => descriptor.artifactType === artifactType);
  return { body: Buffer.from(JSON.stringify({ ...index, manifests })), filtered: true };
}

/** Did the origin say it applied the artifactType filter? (`OCI-Filters-Applied: artifactType`) */
export function originFilteredByArtifactType(header: string | undefined): boolean {
  return (header ?? "")
    .split(",")
    .map(part => part.trim())
    .includes("artifactType");
}
