/** Fetches one piece from another agent's peer API, with the peer token and bounded timeouts. */
import { Agent, request } from "undici";

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
  constructor(message: string) {
    super(message);
    this.name = "PeerBusyError";
  }
}

export interface PeerApi {
  /**
   * The piece's bytes; throws PeerBusyError on 503, PeerUnavailableError on any other failure or a
   * wrong length.
   */
  piece(address: string, digest: string, index: number, length: number): Promise<Buffer>;
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

  async piece(address: string, digest: string, index: number, length: number): Promise<Buffer> {
    const where = `peer ${address} ${digest} piece ${index}`;
    try {
      const res = await request(`http://${address}/p2p/v1/blobs/${digest}/pieces/${index}`, {
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${this.options.token}` },
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        if (res.statusCode === 503) throw new PeerBusyError(`${where}: busy`);
        throw new PeerUnavailableError(`${where}: status ${res.statusCode}`);
      }
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
    } catch (err) {
      if (err instanceof PeerUnavailableError || err instanceof PeerBusyError) throw err;
      throw new PeerUnavailableError(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
