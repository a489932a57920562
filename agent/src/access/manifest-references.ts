/**
 * The digests a manifest or image index makes readable: config, layers, child manifests (and
 * subject/blobs of artifact manifests). Unknown shapes yield nothing: the HEAD check covers them.
 */

export interface Reference {
  digest: string;
  size?: number;
}

interface Descriptor {
  digest?: unknown;
  size?: unknown;
}

export function manifestReferences(body: Buffer): Reference[] {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return [];
  }
  if (typeof doc !== "object" || doc === null) return [];
  const descriptors: unknown[] = [
    doc.config,
    doc.subject,
    ...asArray(doc.layers),
    ...asArray(doc.manifests),
    ...asArray(doc.blobs),
  ];
  return descriptors.flatMap(toReference);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function toReference(value: unknown): Reference[] {
  if (typeof value !== "object" || value === null) return [];
  const { digest, size } = value as Descriptor;
  if (typeof digest !== "string") return [];
  return [
    { digest, size: typeof size === "number" && Number.isSafeInteger(size) && size >= 0 ? size : undefined },
  ];
}
