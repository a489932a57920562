/** What the registry handler needs to get a blob's bytes, wherever they come from. */
import type { ClientCredentials } from "../access/credentials";
import type { SliceSource } from "../cache/blob-store";
import type { Upstream } from "../config/schema";
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
}

export interface BlobProvider {
  /** Size of a complete cached blob, or undefined. */
  cachedSize(digest: string): Promise<number | undefined>;
  /** The blob's bytes; starts or joins a fill on a miss. */
  open(request: BlobRequest & { size: number }): Promise<BlobStream>;
}
