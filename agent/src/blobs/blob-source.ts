/** What the registry handler needs to get a blob's bytes, wherever they come from. */
import type { Readable } from "node:stream";
import type { ByteSpan } from "../../../protocol/range";
import type { ClientCredentials } from "../access/credentials";
import type { OpenBlobFile } from "../cache/blob-store";
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

/** Either a stream, or (cache hits on disk) an open file the HTTP layer sends without garbage. */
export type BlobStream = { stream: Readable; source: BlobSource } | { file: OpenBlobFile; source: "cache" };

export interface BlobProvider {
  /** Size of a complete cached blob, or undefined. */
  cachedSize(digest: string): Promise<number | undefined>;
  /** The requested span of the blob (whole blob when undefined); starts or joins a fill on a miss. */
  open(request: BlobRequest & { size: number }, span?: ByteSpan): Promise<BlobStream>;
}
