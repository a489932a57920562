/**
 * The peer piece route (DESIGN 2.5, wire in protocol/peer-wire.ts): GET
 * /p2p/v1/blobs/<digest>/pieces/<index> with `Authorization: Bearer <peer token>` (401 otherwise),
 * 404 unless the piece is held with its proof (a piece of a partial download, or of a complete
 * cached blob), the proof and this agent's servable pieces in headers. Uploads wait on the node
 * limiter.
 *
 * `POST /p2p/v1/blobs/<digest>/have`: a peer's HAVE push (protocol/peer-wire.ts), handed to the
 * book like a request's asker headers, answered 204.
 *
 * At most `uploadSlots` pieces go out at once; beyond that a request gets 503 at once and the asker
 * tries another holder. Serving everyone at once would split the upload so thin that no copy
 * finishes early; a few fast copies spread a piece through the swarm like a tree.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { type Asker, askerOf, HAVE_PATH, PEER_HEADERS, PIECE_PATH } from "../../../protocol/peer-wire";
import { bearerTokenCheck } from "../../../protocol/peer-token";
import { pieceCount, pieceSpan } from "../../../protocol/pieces";
import type { BlobStore } from "../cache/blob-store";
import type { PeerRoute } from "../http/peer-server";
import type { PartialBlob } from "../cache/partial-store";
import type { HeldProofs } from "./held-proofs";
import { UploadSlots } from "./upload-slots";

/** What this agent holds for the swarm (the swarm's book implements it). */
export interface HeldPieces {
  proofs(digest: string): HeldProofs | undefined;
  /** The request's sender, as it describes itself (protocol/peer-wire.ts askerOf). */
  askedBy(digest: string, asker: Asker): void;
  partial(digest: string): PartialBlob | undefined;
  pieceSizeOf(digest: string, size: number): number;
}

export interface PeerApiDeps {
  token: string;
  store: Pick<BlobStore, "stat" | "open">;
  book: HeldPieces;
  limiter: { take(bytes: number): Promise<void> };
  onUpload: (bytes: number) => void;
  /** A peer's HAVE push was taken. */
  onHavePush?: () => void;
  /** Pieces sent at the same time; more requests get 503 (busy). */
  uploadSlots: number;
}

export function createPeerApi(deps: PeerApiDeps): PeerRoute {
  const bearer = bearerTokenCheck(deps.token);
  const authorized = (req: IncomingMessage): boolean => bearer(req.headers.authorization);
  const slots = new UploadSlots(deps.uploadSlots);
  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (!path.startsWith("/p2p/")) return false;
    if (!authorized(req)) return end(res, 401, "unauthorized\n");
    const push = HAVE_PATH.exec(path);
    if (push) return takeHavePush(deps, req, res, push[1]);
    const match = PIECE_PATH.exec(path);
    if (!match) return end(res, 404, "not found\n");
    if (req.method !== "GET") return end(res, 405, "method not allowed\n");
    const [digest, index] = [match[1], Number(match[2])];
    const asker = askerOf(req.headers, req.socket.remoteAddress ?? "");
    if (asker) deps.book.askedBy(digest, asker);
    const proofs = deps.book.proofs(digest);
    const have: Record<string, string> = proofs ? { [PEER_HEADERS.have]: proofs.servable.encode() } : {};
    const proof = proofs?.proof(index);
    if (!proof) return end(res, 404, "piece not held\n", have);
    const release = slots.tryAcquire();
    if (!release) return end(res, 503, "busy\n", { "retry-after": "1", ...have });
    try {
      const body = await openPiece(deps, digest, index);
      if (!body) return end(res, 404, "piece not held\n", have);
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": body.length,
        [PEER_HEADERS.pieceHash]: proof.hashHex,
        [PEER_HEADERS.proof]: proof.signature,
        [PEER_HEADERS.trackerKey]: proof.trackerKey,
        ...have,
      });
      await send(body, res, deps);
      return true;
    } finally {
      release();
    }
  };
}

function takeHavePush(deps: PeerApiDeps, req: IncomingMessage, res: ServerResponse, digest: string): true {
  if (req.method !== "POST") return end(res, 405, "method not allowed\n");
  const asker = askerOf(req.headers, req.socket.remoteAddress ?? "");
  if (!asker) return end(res, 400, "missing or malformed x-peerpull-peer-id, -peer-address or -have\n");
  deps.book.askedBy(digest, asker);
  deps.onHavePush?.();
  res.writeHead(204).end();
  return true;
}

async function openPiece(
  deps: PeerApiDeps,
  digest: string,
  index: number,
): Promise<{ stream: Readable; length: number } | undefined> {
  const partial = deps.book.partial(digest);
  if (partial && index < pieceCount(partial.size, partial.pieceSize) && partial.have.has(index)) {
    const span = pieceSpan(index, partial.size, partial.pieceSize);
    try {
      return { stream: partial.readRange(span.start, span.end), length: span.end - span.start + 1 };
    } catch {
      // committed or aborted meanwhile: the cache may have it now
    }
  }
  const info = await deps.store.stat(digest);
  if (!info) return undefined;
  const pieceSize = deps.book.pieceSizeOf(digest, info.size);
  if (index >= pieceCount(info.size, pieceSize)) return undefined;
  const span = pieceSpan(index, info.size, pieceSize);
  try {
    return { stream: await deps.store.open(digest, span), length: span.end - span.start + 1 };
  } catch {
    return undefined;
  }
}

async function send(
  body: { stream: Readable; length: number },
  res: ServerResponse,
  deps: PeerApiDeps,
): Promise<void> {
  const { stream, length } = body;
  let sent = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      await deps.limiter.take(buf.length);
      if (!res.write(buf)) await settledBy(res, ["drain", "close"]);
      deps.onUpload(buf.length);
      sent += buf.length;
      // Done at the last byte, not at the file's end-of-stream one read later: the asker may
      // already be asking again, and the slot must be free by then.
      if (res.destroyed || sent >= length) break;
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    stream.destroy();
  }
}

/** Waits for the first of `events`, and leaves no listener behind (this runs once per chunk). */
function settledBy(res: ServerResponse, events: string[]): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      for (const event of events) res.off(event, done);
      resolve();
    };
    for (const event of events) res.on(event, done);
  });
}

function end(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
  return true;
}
