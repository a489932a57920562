/**
 * Fetches one piece from another agent's peer API (protocol/peer-wire.ts), with the peer token and
 * bounded timeouts. It returns the bytes with the proof and the responder's servable pieces as
 * sent; checking them is the caller's job (swarm/piece-check.ts).
 */
import { Agent, Dispatcher, request } from "undici";
import { PEER_HEADERS, piecePath } from "../../../protocol/peer-wire";
import type { PieceProof } from "./held-proofs";

export class PeerUnavailableError extends Error {
  readonly code = "PEERPULL_PEER_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PeerUnavailableError";
  }
}

/** The peer is sending as many pieces as it allows at once (503): ask another, or later. */
export class PeerBusyError extends Error {
  readonly code = "PEERPULL_PEER_BUSY";
  constructor(
    message: string,
    readonly have?: string,
  ) {
    super(message);
    this.name = "PeerBusyError";
  }
}

/** The peer does not hold the piece (with a proof) after all (404): its view was stale. */
export class PeerMissingError extends Error {
  readonly code = "PEERPULL_PEER_MISSING";
  constructor(
    message: string,
    readonly have?: string,
  ) {
    super(message);
    this.name = "PeerMissingError";
  }
}

export interface PeerPiece {
  data: Buffer;
  /** As the peer sent it; undefined when it sent none (the caller refuses the piece). */
  proof?: PieceProof;
  /** The peer's servable pieces, base64 bitfield, when it said. */
  have?: string;
}

export interface PeerApi {
  /**
   * The piece; throws PeerBusyError on 503, PeerMissingError on 404, PeerUnavailableError on any
   * other failure or a wrong length.
   */
  piece(address: string, digest: string, index: number, length: number): Promise<PeerPiece>;
}

export class PeerClient implements PeerApi {
  private readonly agent: Agent;

  constructor(private readonly options: { token: string; timeoutMs: number }) {
    this.agent = new Agent({
      connections: 8,
      keepAliveTimeout: 10_000,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async piece(address: string, digest: string, index: number, length: number): Promise<PeerPiece> {
    const where = `peer ${address} ${digest} piece ${index}`;
    try {
      const res = await request(`http://${address}${piecePath(digest, index)}`, {
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${this.options.token}` },
      });
      const have = header(res, PEER_HEADERS.have);
      if (res.statusCode !== 200) {
        await res.body.dump();
        if (res.statusCode === 503) throw new PeerBusyError(`${where}: busy`, have);
        if (res.statusCode === 404) throw new PeerMissingError(`${where}: not held`, have);
        throw new PeerUnavailableError(`${where}: status ${res.statusCode}`);
      }
      const data = await readExactly(res, length, where);
      return { data, proof: proofOf(res), have };
    } catch (err) {
      if (
        err instanceof PeerUnavailableError ||
        err instanceof PeerBusyError ||
        err instanceof PeerMissingError
      )
        throw err;
      throw new PeerUnavailableError(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readExactly(res: Dispatcher.ResponseData, length: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > length) {
      res.body.destroy();
      throw new PeerUnavailableError(`${where}: more than ${length} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (size !== length) throw new PeerUnavailableError(`${where}: ${size} bytes, expected ${length}`);
  return Buffer.concat(chunks, size);
}

function proofOf(res: Dispatcher.ResponseData): PieceProof | undefined {
  const hashHex = header(res, PEER_HEADERS.pieceHash);
  const signature = header(res, PEER_HEADERS.proof);
  const trackerKey = header(res, PEER_HEADERS.trackerKey);
  if (!hashHex || !signature || !trackerKey) return undefined;
  return { hashHex, signature, trackerKey };
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
