/**
 * Fetches one piece from another agent's peer API (protocol/peer-wire.ts), with the peer token and
 * bounded timeouts. It returns the bytes with the proof and the responder's servable pieces as
 * sent; checking them is the caller's job (swarm/piece-check.ts).
 *
 * A few keep-alive connections per peer, each an undici Client that carries one request at a time,
 * so the socket a response arrives on is known and its receive low-water mark can follow the piece
 * (receive-lowat.ts); the body is read straight into the piece's buffer (no list of chunks to join).
 */
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { buildConnector, Client, Dispatcher } from "undici";
import { type Asker, havePath, PEER_HEADERS, piecePath } from "../../../protocol/peer-wire";
import type { PieceProof } from "./held-proofs";
import { loadReceiveLowat, RCVLOWAT_CAP, ReceiveLowat } from "./receive-lowat";

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
  piece(address: string, digest: string, index: number, length: number, asker?: Asker): Promise<PeerPiece>;
  /** Pushes this node's HAVE for `digest` (its `asker` headers); throws PeerUnavailableError unless 204. */
  pushHave(address: string, digest: string, asker: Asker): Promise<void>;
}

/** Connections kept per peer (the swarm asks one peer for a few pieces at a time at most). */
const CONNECTIONS_PER_PEER = 8;
/** Peers whose connections are kept (the least recently asked beyond it are closed when idle). */
const PEERS_KEPT = 256;

interface Connection {
  client: Client;
  /** The socket of the client's current connection, once it connected. */
  socket?: Socket;
  busy: number;
}

export interface PeerClientOptions {
  token: string;
  timeoutMs: number;
  /** The receive low-water mark setter; loadReceiveLowat() unless a test watches it. */
  receiveLowat?: ReceiveLowat;
}

export class PeerClient implements PeerApi {
  private readonly peers = new Map<string, Connection[]>();
  private readonly connector: buildConnector.connector;
  private readonly lowat: ReceiveLowat;

  constructor(private readonly options: PeerClientOptions) {
    this.connector = buildConnector({ timeout: options.timeoutMs });
    this.lowat = options.receiveLowat ?? loadReceiveLowat();
  }

  /** Piece `index` of `digest` from the peer at `address`; `asker`: this node's own HAVE, sent along. */
  async piece(
    address: string,
    digest: string,
    index: number,
    length: number,
    asker?: Asker,
  ): Promise<PeerPiece> {
    const where = `peer ${address} ${digest} piece ${index}`;
    const connection = this.connectionTo(address);
    connection.busy++;
    try {
      const res = await connection.client.request({
        path: piecePath(digest, index),
        method: "GET",
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(asker && askerHeaders(asker)),
        },
      });
      const have = header(res, PEER_HEADERS.have);
      if (res.statusCode !== 200) {
        await res.body.dump();
        if (res.statusCode === 503) throw new PeerBusyError(`${where}: busy`, have);
        if (res.statusCode === 404) throw new PeerMissingError(`${where}: not held`, have);
        throw new PeerUnavailableError(`${where}: status ${res.statusCode}`);
      }
      const data = await this.readPiece(res.body, connection.socket, length, where);
      return { data, proof: proofOf(res), have };
    } catch (err) {
      if (
        err instanceof PeerUnavailableError ||
        err instanceof PeerBusyError ||
        err instanceof PeerMissingError
      )
        throw err;
      throw new PeerUnavailableError(`${where}: ${(err as Error).message}`, { cause: err });
    } finally {
      connection.busy--;
    }
  }

  async pushHave(address: string, digest: string, asker: Asker): Promise<void> {
    const connection = this.connectionTo(address);
    connection.busy++;
    try {
      const res = await connection.client.request({
        path: havePath(digest),
        method: "POST",
        headers: { authorization: `Bearer ${this.options.token}`, ...askerHeaders(asker) },
      });
      await res.body.dump();
      if (res.statusCode !== 204)
        throw new PeerUnavailableError(`peer ${address} ${digest} HAVE push: status ${res.statusCode}`);
    } catch (err) {
      if (err instanceof PeerUnavailableError) throw err;
      throw new PeerUnavailableError(`peer ${address} ${digest} HAVE push: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      connection.busy--;
    }
  }

  async close(): Promise<void> {
    const all = [...this.peers.values()].flat();
    this.peers.clear();
    await Promise.all(all.map(c => c.client.close().catch(() => undefined)));
  }

  /**
   * Exactly `length` bytes of `body` into one buffer; the kernel gathers up to RCVLOWAT_CAP (never
   * more than is left of the piece) per wake-up, and the mark is back at 1 once the body is done.
   */
  private readPiece(
    body: Readable,
    socket: Socket | undefined,
    length: number,
    where: string,
  ): Promise<Buffer> {
    const piece = Buffer.allocUnsafe(length);
    let got = 0;
    let mark = 0;
    // A system call only when the mark moves: it stays at the cap until the piece's last 64 KiB.
    const tune = () => {
      const wanted = Math.max(1, Math.min(RCVLOWAT_CAP, length - got));
      if (!socket || wanted === mark) return;
      mark = wanted;
      this.lowat.set(socket, wanted);
    };
    tune();
    return new Promise<Buffer>((resolve, reject) => {
      const settle = (err?: Error) => {
        if (socket && mark !== 1) this.lowat.set(socket, 1);
        if (err) reject(err);
        else resolve(piece);
      };
      body.on("data", (chunk: Buffer) => {
        if (got + chunk.length > length) {
          body.destroy();
          return settle(new PeerUnavailableError(`${where}: more than ${length} bytes`));
        }
        got += chunk.copy(piece, got);
        tune();
      });
      body.once("error", err => settle(err));
      body.once("end", () =>
        settle(
          got === length ? undefined : new PeerUnavailableError(`${where}: ${got} bytes, expected ${length}`),
        ),
      );
    });
  }

  /** The least busy connection to `address` (one request at a time each), opening one if needed. */
  private connectionTo(address: string): Connection {
    const connections = this.peers.get(address) ?? [];
    this.peers.delete(address); // most recently asked last
    this.peers.set(address, connections);
    if (this.peers.size > PEERS_KEPT) this.forget(this.peers.keys().next().value as string);
    const idle = connections.find(c => c.busy === 0);
    if (idle) return idle;
    if (connections.length >= CONNECTIONS_PER_PEER)
      return connections.reduce((a, b) => (b.busy < a.busy ? b : a));
    const connection: Connection = {
      client: this.clientFor(address, socket => (connection.socket = socket)),
      busy: 0,
    };
    connections.push(connection);
    return connection;
  }

  /** A kept-alive client to `address` that carries one request at a time and reports its sockets. */
  private clientFor(address: string, connected: (socket: Socket) => void): Client {
    return new Client(`http://${address}`, {
      pipelining: 1,
      keepAliveTimeout: 10_000,
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
      connect: (opts, callback) =>
        this.connector(opts, (err, socket) => {
          if (err) return callback(err, null);
          connected(socket as Socket);
          callback(null, socket);
        }),
    });
  }

  private forget(address: string): void {
    const connections = this.peers.get(address) ?? [];
    if (connections.some(c => c.busy > 0)) return;
    this.peers.delete(address);
    for (const { client } of connections) void client.close().catch(() => undefined);
  }
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

function askerHeaders(asker: Asker): Record<string, string> {
  return {
    [PEER_HEADERS.peerId]: asker.peerId,
    [PEER_HEADERS.peerAddress]: asker.address,
    [PEER_HEADERS.have]: asker.have,
  };
}
