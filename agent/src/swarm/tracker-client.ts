/** Announce and leave at the tracker (DESIGN 2.5) over undici, with the peer token. */
import { Agent, request } from "undici";
import {
  AnnounceRequest,
  AnnounceResponse,
  decodeAnnounceResponse,
  decodeTrackerErrorBody,
} from "../../../protocol/tracker-api";

const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export class TrackerUnavailableError extends Error {
  readonly code = "PEERPULL_TRACKER_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TrackerUnavailableError";
  }
}

export interface TrackerApi {
  announce(body: AnnounceRequest): Promise<AnnounceResponse>;
  leave(peerId: string, digest?: string): Promise<void>;
}

export class TrackerClient implements TrackerApi {
  private readonly agent: Agent;

  constructor(private readonly options: { url: string; token: string; timeoutMs: number }) {
    this.agent = new Agent({
      connections: 8,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async announce(body: AnnounceRequest): Promise<AnnounceResponse> {
    return decodeAnnounceResponse(await this.post("/v1/announce", body));
  }

  async leave(peerId: string, digest?: string): Promise<void> {
    await this.post("/v1/leave", digest === undefined ? { peerId } : { peerId, digest });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    let res;
    try {
      res = await request(`${this.options.url}${path}`, {
        method: "POST",
        dispatcher: this.agent,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new TrackerUnavailableError(`tracker ${path}: ${(err as Error).message}`, { cause: err });
    }
    const length = Number(res.headers["content-length"] ?? 0);
    if (length > MAX_RESPONSE_BYTES) {
      res.body.destroy();
      throw new TrackerUnavailableError(`tracker ${path}: response of ${length} bytes is too large`);
    }
    let parsed: unknown;
    try {
      parsed = await res.body.json();
    } catch (err) {
      throw new TrackerUnavailableError(`tracker ${path}: status ${res.statusCode}, unreadable body`, {
        cause: err,
      });
    }
    if (res.statusCode !== 200) {
      const error = decodeTrackerErrorBody(parsed);
      throw new TrackerUnavailableError(
        `tracker ${path}: status ${res.statusCode}${error ? ` ${error.code}: ${error.message}` : ""}`,
      );
    }
    return parsed;
  }
}
