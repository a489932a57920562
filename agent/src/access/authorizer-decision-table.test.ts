/**
 * The Authorizer's decision for one blob request, as a table: what the agent remembers (a grant and
 * when the origin confirmed it, a digest the origin said it lacks), what the origin answers to the
 * HEAD, the offline grace -> the decision counted, the answer, and whether the origin was asked.
 * authTTL is 60 s, the grace 10 min unless a row says otherwise.
 */
import type { Upstream } from "../../../protocol/agent-config";
import { OciError } from "../../../protocol/oci-error";
import { ClientCredentials, parseAuthorization } from "../credentials/client-credentials";
import { UpstreamStatusError, UpstreamUnreachableError } from "../upstream/errors";
import { AuthDecision, Authorizer, scopeOf } from "./authorizer";
import { GrantBook } from "./grants";
import { UnknownDigests } from "./unknown-digests";

const AUTH_TTL_MS = 60_000;
const GRACE_MS = 600_000;
const NOW = 10_000_000;
const UPSTREAM: Upstream = { host: "r.test", origin: "http://127.0.0.1:1" };
const REPO = "team/app";
const DIGEST = "sha256:" + "a".repeat(64);
const basic = (user: string) => parseAuthorization("Basic " + Buffer.from(`${user}:pw`).toString("base64"))!;
const ALICE = basic("alice");
const BOB = basic("bob");

type OriginAnswer = "size 42" | 401 | 403 | 404 | 429 | 503 | "unreachable";

interface Row {
  name: string;
  /** A grant the origin confirmed `agoMs` before now, for `who` and `repo` (default: this request's). */
  grant?: { agoMs: number; who?: ClientCredentials; repo?: string };
  /** The origin said recently it has no such digest (for this credential and repository). */
  knownMissing?: boolean;
  origin: OriginAnswer;
  graceMs?: number;
  decision: AuthDecision;
  /** The size handed on, or the OCI error code the client gets. */
  answer: number | string;
  asksOrigin: boolean;
}

const rows: Row[] = [
  {
    name: "a grant within authTTL",
    grant: { agoMs: 59_000 },
    origin: 403,
    decision: "grant",
    answer: 7,
    asksOrigin: false,
  },
  {
    name: "a grant past authTTL, origin says yes",
    grant: { agoMs: 60_000 },
    origin: "size 42",
    decision: "origin",
    answer: 42,
    asksOrigin: true,
  },
  { name: "no grant, origin says yes", origin: "size 42", decision: "origin", answer: 42, asksOrigin: true },
  {
    name: "another credential's grant",
    grant: { agoMs: 0, who: BOB },
    origin: 401,
    decision: "denied",
    answer: "UNAUTHORIZED",
    asksOrigin: true,
  },
  {
    name: "a grant for another repository",
    grant: { agoMs: 0, repo: "team/other" },
    origin: 403,
    decision: "denied",
    answer: "DENIED",
    asksOrigin: true,
  },
  { name: "no grant, origin 401", origin: 401, decision: "denied", answer: "UNAUTHORIZED", asksOrigin: true },
  { name: "no grant, origin 403", origin: 403, decision: "denied", answer: "DENIED", asksOrigin: true },
  { name: "no grant, origin 404", origin: 404, decision: "denied", answer: "BLOB_UNKNOWN", asksOrigin: true },
  {
    name: "a digest the origin just said it lacks",
    knownMissing: true,
    origin: "size 42",
    decision: "denied",
    answer: "BLOB_UNKNOWN",
    asksOrigin: false,
  },
  {
    name: "origin down, never confirmed",
    origin: "unreachable",
    decision: "unreachable",
    answer: "UNAVAILABLE",
    asksOrigin: true,
  },
  {
    name: "origin down, confirmed within the grace",
    grant: { agoMs: 300_000 },
    origin: "unreachable",
    decision: "offline",
    answer: 7,
    asksOrigin: true,
  },
  {
    name: "origin 503, confirmed within the grace",
    grant: { agoMs: 300_000 },
    origin: 503,
    decision: "offline",
    answer: 7,
    asksOrigin: true,
  },
  {
    name: "origin 429, confirmed within the grace",
    grant: { agoMs: 300_000 },
    origin: 429,
    decision: "offline",
    answer: 7,
    asksOrigin: true,
  },
  {
    name: "origin down, confirmed before the grace",
    grant: { agoMs: 600_000 },
    origin: "unreachable",
    decision: "unreachable",
    answer: "UNAVAILABLE",
    asksOrigin: true,
  },
  {
    name: "origin down, confirmed but no grace configured",
    grant: { agoMs: 300_000 },
    origin: "unreachable",
    graceMs: 0,
    decision: "unreachable",
    answer: "UNAVAILABLE",
    asksOrigin: true,
  },
  {
    name: "origin down, another credential confirmed",
    grant: { agoMs: 0, who: BOB },
    origin: "unreachable",
    decision: "unreachable",
    answer: "UNAVAILABLE",
    asksOrigin: true,
  },
];

function originAnswers(answer: OriginAnswer): () => Promise<number> {
  return async () => {
    if (answer === "unreachable") throw new UpstreamUnreachableError("connection refused");
    if (typeof answer === "number") throw new UpstreamStatusError(answer, `origin answered ${answer}`);
    return 42;
  };
}

async function decide(row: Row) {
  const grants = new GrantBook(AUTH_TTL_MS);
  const unknown = new UnknownDigests();
  if (row.grant) {
    const { agoMs, who = ALICE, repo = REPO } = row.grant;
    grants.grant(who.fingerprint, scopeOf(UPSTREAM, repo), [{ digest: DIGEST, size: 7 }], NOW - agoMs);
  }
  if (row.knownMissing) unknown.remember(ALICE.fingerprint, scopeOf(UPSTREAM, REPO), DIGEST, NOW);
  const heads: string[] = [];
  const answer = originAnswers(row.origin);
  const decisions: AuthDecision[] = [];
  const authorizer = new Authorizer({
    grants,
    unknown,
    client: {
      manifest: () => Promise.reject(new Error("not asked here")),
      headBlob: async (_upstream, repo, digest, credentials) => {
        heads.push(`${credentials.fingerprint} ${repo} ${digest}`);
        return answer();
      },
    },
    offlineGraceMs: row.graceMs ?? GRACE_MS,
    now: () => NOW,
    onDecision: decision => decisions.push(decision),
  });
  const result = await authorizer.blob(UPSTREAM, REPO, DIGEST, ALICE).then(
    ({ size }) => size,
    (err: unknown) => (err instanceof OciError ? err.code : `not an OciError: ${err}`),
  );
  return { decisions, answer: result, heads };
}

describe("Authorizer.blob decision table", () => {
  it.each(rows)("$name -> $decision, $answer", async row => {
    const { decisions, answer, heads } = await decide(row);
    expect({ decisions, answer }).toEqual({ decisions: [row.decision], answer: row.answer });
    // The origin is asked with exactly this request's credential, repository and digest, or not at all.
    expect(heads).toEqual(row.asksOrigin ? [`${ALICE.fingerprint} ${REPO} ${DIGEST}`] : []);
  });
});
