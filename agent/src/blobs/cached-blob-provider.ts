/**
 * Blob bytes for the registry handler: from the cache when complete, otherwise from one shared fill
 * per digest (single flight) that every concurrent request streams from while it is still running.
 * The fill here goes to the origin; the swarm plugs in as another filler.
 */
import type { Logger } from "pino";
import { ByteSpan } from "../../../protocol/range";
import { BlobNotFoundError, BlobStore, BlobWriter } from "../cache/blob-store";
import { InFlight } from "../cache/in-flight";
import type { AgentMetrics } from "../metrics";
import type { UpstreamClient } from "../upstream/upstream-client";
import { BlobProvider, BlobRequest, BlobStream } from "./blob-source";

export interface CachedBlobProviderDeps {
  store: BlobStore;
  inFlight: InFlight;
  client: Pick<UpstreamClient, "blob">;
  metrics: AgentMetrics;
  log: Logger;
}

export class CachedBlobProvider implements BlobProvider {
  constructor(private readonly deps: CachedBlobProviderDeps) {}

  async cachedSize(digest: string): Promise<number | undefined> {
    return (await this.deps.store.stat(digest))?.size;
  }

  async open(request: BlobRequest & { size: number }, span?: ByteSpan): Promise<BlobStream> {
    if (await this.deps.store.stat(request.digest)) {
      try {
        return { stream: await this.deps.store.open(request.digest, span), source: "cache" };
      } catch (err) {
        if (!(err instanceof BlobNotFoundError)) throw err; // evicted since stat(): fetch it again
      }
    }
    const fill = this.deps.inFlight.join(request.digest, request.size, writer =>
      this.fillFromOrigin(request, writer),
    );
    return { stream: fill.createReader(span), source: "origin" };
  }

  private async fillFromOrigin(request: BlobRequest, writer: BlobWriter): Promise<void> {
    const timer = this.deps.metrics.blobFetchDuration.startTimer({ source: "origin" });
    try {
      for await (const chunk of this.deps.client.blob(
        request.upstream,
        request.repo,
        request.digest,
        request.credentials,
      )) {
        await writer.write(chunk);
      }
      await writer.commit();
      timer();
    } catch (err) {
      if ((err as { code?: string }).code === "PEERPULL_DIGEST_MISMATCH")
        this.deps.metrics.pieceVerifyFailures.inc();
      this.deps.log.warn({ digest: request.digest, err }, "origin fill failed");
      await writer.abort().catch(() => undefined);
      throw err;
    }
  }
}
