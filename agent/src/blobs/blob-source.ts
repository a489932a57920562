/** What the registry handler needs to get a blob's bytes, wherever they come from. */
import type { ClientCredentials } from "../credentials/client-credentials";
import type { SliceSource } from "../cache/blob-store";
import type { SourceTally } from "../cache/in-flight";
import type { Upstream } from "../../../protocol/agent-config";
import type { BlobSource } from "../metrics";

export interface BlobRequest {
  upstream: Upstream;
  repo: string;
  digest: string;
  credentials: ClientCredentials;
  /** Size from the manifest descriptor or the origin HEAD, when known. */
  size?: number;
}

/** The blob's bytes as a slice source the HTTP layer reads into reusable buffers. */
export interface BlobStream {
  slices: SliceSource;
  source: BlobSource;
  /** For a fill from several places: the bytes by place, to split what the client got. */
  sourced?: SourceTally;
}

export interface BlobProvider {
  /** Size of a complete cached blob, or undefined. */
  cachedSize(digest: string): Promise<number | undefined>;
  /** The blob's bytes; starts or joins a fill on a miss. */
  open(request: BlobRequest & { size: number }): Promise<BlobStream>;
}

/**
 * What a client got, by where it came from: a swarm fill mixes origin and peer pieces, so the bytes
 * are split in the proportion the fill got them (exact for a whole-blob GET once the fill is done).
 */
export function splitBySource(
  blob: Pick<BlobStream, "source" | "sourced">,
  bytes: number,
): [BlobSource, number][] {
  const tally = blob.sourced;
  const total = tally ? tally.origin + tally.peer : 0;
  if (!tally || total === 0 || tally.peer === 0) return [[blob.source, bytes]];
  const peer = Math.round((bytes * tally.peer) / total);
  return [
    ["peer", peer],
    ["origin", bytes - peer],
  ].filter(([, n]) => (n as number) > 0) as [BlobSource, number][];
}
