/**
 * Blob bytes for the registry handler: from the cache when complete, otherwise from one shared fill
 * per digest (single flight) that every concurrent request streams from while it is still running.
 * The fill here goes to the origin; the swarm plugs in as another filler.
 */
import type { Logger } from "pino";
import { isDigestMismatch } from "../../../protocol/digest";
import { BlobNotFoundError, BlobStore, BlobWriter } from "../cache/blob-store";
import { FillFunction, InFlight } from "../cache/in-flight";
import type { AgentMetrics } from "../metrics";
import type { UpstreamClient } from "../upstream/upstream-client";
import { BlobProvider, BlobRequest, BlobStream } from "./blob-source";

export interface CachedBlobProviderDeps {
  store: BlobStore;
  inFlight: InFlight;
  client: Pick<UpstreamClient, "blob">;
  metrics: AgentMetrics;
  log: Logger;
  /** The swarm's fill for a blob, or undefined when the blob goes straight to the origin. */
  swarm?: (request: BlobRequest & { size: number }) => FillFunction | undefined;
}

export class CachedBlobProvider implements BlobProvider {
  constructor(private readonly deps: CachedBlobProviderDeps) {}

  async cachedSize(digest: string): Promise<number | undefined> {
    return (await this.deps.store.stat(digest))?.size;
  }

  async open(request: BlobRequest & { size: number }): Promise<BlobStream> {
    if (await this.deps.store.stat(request.digest)) {
      try {
        return { slices: await this.deps.store.openSlices(request.digest), source: "cache" };
      } catch (err) {
        if (!(err instanceof BlobNotFoundError)) throw err; // evicted since stat(): fetch it again
      }
    }
    const swarmFill = this.deps.swarm?.(request);
    const fill = this.deps.inFlight.join(
      request.digest,
      request.size,
      swarmFill ? this.timed(swarmFill) : writer => this.fillFromOrigin(request, writer),
    );
    return { slices: fill.createSliceReader(), source: "origin", sourced: fill.sourced };
  }

  /** A swarm fill, timed like an origin fill: only fills that committed are observed. */
  private timed(fill: FillFunction): FillFunction {
    return async (writer, sourced) => {
      const timer = this.deps.metrics.blobFetchDuration.startTimer({ source: "swarm" });
      await fill(writer, sourced);
      timer();
    };
  }

  private async fillFromOrigin(request: BlobRequest, writer: BlobWriter): Promise<void> {
    const timer = this.deps.metrics.blobFetchDuration.startTimer({ source: "origin" });
    try {
      const chunks = this.deps.client.blob(
        request.upstream,
        request.repo,
        request.digest,
        request.credentials,
      );
      // Each origin chunk as it comes: the writer copies it into its batches.
      for await (const chunk of chunks) await writer.write(chunk);
      await writer.commit();
      timer();
    } catch (err) {
      if (isDigestMismatch(err)) this.deps.metrics.pieceVerifyFailures.inc();
      this.deps.log.warn({ digest: request.digest, err }, "origin fill failed");
      await writer.abort().catch(() => undefined);
      throw err;
    }
  }
}
