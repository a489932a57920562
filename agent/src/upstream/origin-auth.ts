/**
 * Turns client credentials into the Authorization header an origin accepts: Basic as is, or the
 * Docker token dance (realm/service/scope) with tokens cached per (origin, credential, repo) until
 * they expire. Remembers each origin's challenge so later requests carry auth on the first try.
 * Both memories are LRUs: however many credentials and repositories pass through, they stay bounded
 * (an evicted token costs one more token request).
 */
import { LRUCache } from "lru-cache";
import { Dispatcher, request } from "undici";
import { ClientCredentials, basicHeader } from "../credentials/client-credentials";
import { readBounded } from "./read-bounded";
import { Challenge } from "./www-authenticate";

interface CachedToken {
  header: string;
  expiresAt: number;
}

const DEFAULT_TOKEN_SECONDS = 60;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** A token entry is about 300 bytes with its key: 10,000 hold about 3 MB. */
export const DEFAULT_MAX_TOKENS = 10_000;
/** Challenges are per origin, and origins come from the config: this is only a backstop. */
const MAX_CHALLENGES = 1_000;

export class OriginAuth {
  private readonly challenges = new LRUCache<string, Challenge>({ max: MAX_CHALLENGES });
  private readonly tokens: LRUCache<string, CachedToken>;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
    maxTokens = DEFAULT_MAX_TOKENS,
  ) {
    this.tokens = new LRUCache({ max: maxTokens });
  }

  rememberChallenge(origin: string, challenge: Challenge): void {
    this.challenges.set(origin, challenge);
  }

  /** Forgets a cached token after the origin rejected it. */
  invalidate(origin: string, credentials: ClientCredentials, repo: string): void {
    this.tokens.delete(tokenKey(origin, credentials, repo));
  }

  /**
   * The header to send, or undefined to go anonymous. Throws TokenDeniedError when the token
   * endpoint refuses the credentials.
   */
  async headerFor(origin: string, credentials: ClientCredentials, repo: string): Promise<string | undefined> {
    if (credentials.kind === "bearer") return `Bearer ${credentials.token}`;
    const challenge = this.challenges.get(origin);
    if (!challenge) return undefined;
    if (challenge.scheme === "basic")
      return credentials.kind === "basic" ? basicHeader(credentials) : undefined;
    const key = tokenKey(origin, credentials, repo);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.header;
    const token = await this.fetchToken(challenge, credentials, repo);
    this.tokens.set(key, token);
    return token.header;
  }

  private async fetchToken(
    challenge: Extract<Challenge, { scheme: "bearer" }>,
    credentials: ClientCredentials,
    repo: string,
  ): Promise<CachedToken> {
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set("service", challenge.service);
    // No repository (a login check): a token for no scope, which the endpoint issues only to valid credentials.
    if (repo) url.searchParams.set("scope", `repository:${repo}:pull`);
    const headers: Record<string, string> = {};
    if (credentials.kind === "basic") headers.authorization = basicHeader(credentials);
    const response = await request(url, {
      dispatcher: this.dispatcher,
      headers,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = (await readBounded(response.body, MAX_TOKEN_RESPONSE_BYTES)).toString("utf8");
    if (response.statusCode === 401 || response.statusCode === 403)
      throw new TokenDeniedError(response.statusCode);
    if (response.statusCode !== 200) throw new Error(`token endpoint answered ${response.statusCode}`);
    const body = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error("token endpoint returned no token");
    const seconds = Number.isFinite(body.expires_in)
      ? Math.max(1, Number(body.expires_in))
      : DEFAULT_TOKEN_SECONDS;
    // Renew a little early so a token never expires between the check and the request.
    return { header: `Bearer ${token}`, expiresAt: this.now() + Math.max(1, seconds - 5) * 1000 };
  }
}

export class TokenDeniedError extends Error {
  readonly code = "PEERPULL_TOKEN_DENIED";
  constructor(readonly statusCode: number) {
    super(`origin token endpoint refused the credentials (${statusCode})`);
    this.name = "TokenDeniedError";
  }
}

function tokenKey(origin: string, credentials: ClientCredentials, repo: string): string {
  return `${origin}\u0000${credentials.fingerprint}\u0000${repo}`;
}
