import { Bitfield } from "./pieces";
import {
  AnnounceRequest,
  TrackerError,
  decodeAnnounceRequest,
  decodeAnnounceResponse,
  decodeBitfield,
  decodeLeaveRequest,
  decodeTrackerErrorBody,
  encodeBitfield,
  isPeerAddress,
  parseJsonBody,
} from "./tracker-api";

const DIGEST = "sha256:" + "0f".repeat(32);
const HASH = "a1".repeat(32);
// 10 pieces of 100 bytes: 2 bitfield bytes, 6 spare bits.
const BASE = {
  digest: DIGEST,
  size: 1000,
  pieceSize: 100,
  peerId: "node-1",
  address: "10.231.7.2:65002",
  have: "AAA=",
};

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TrackerError);
    expect((err as TrackerError).status).toBe(400);
    return (err as Error).message;
  }
  throw new Error("did not throw");
}

describe("decodeAnnounceRequest", () => {
  const parses: { name: string; body: object; expect: Partial<AnnounceRequest> }[] = [
    {
      name: "minimal, defaults filled",
      body: BASE,
      expect: { complete: false, wantLease: true, releaseLease: false, pieceHashes: {} },
    },
    {
      name: "piece hashes by index",
      body: { ...BASE, pieceHashes: { "0": HASH, "9": HASH } },
      expect: { pieceHashes: { 0: HASH, 9: HASH } },
    },
    {
      name: "complete seeder",
      body: { ...BASE, have: "/8A=", complete: true },
      expect: { complete: true, have: "/8A=" },
    },
    {
      name: "release and no lease",
      body: { ...BASE, wantLease: false, releaseLease: true },
      expect: { wantLease: false, releaseLease: true },
    },
    {
      name: "DNS name address",
      body: { ...BASE, address: "node-1.cluster.local:1" },
      expect: { address: "node-1.cluster.local:1" },
    },
    {
      name: "IPv6 address",
      body: { ...BASE, address: "[fd00::1]:65002" },
      expect: { address: "[fd00::1]:65002" },
    },
    { name: "last piece shorter", body: { ...BASE, size: 1001, have: "AAA=" }, expect: { size: 1001 } },
  ];
  it.each(parses)("parses: $name", ({ body, expect: want }) => {
    expect(decodeAnnounceRequest(body)).toMatchObject(want);
  });

  const rejects: { name: string; body: unknown; reason: RegExp }[] = [
    { name: "not an object", body: [], reason: /^body: expected an object/ },
    { name: "unknown field", body: { ...BASE, extra: 1 }, reason: /^extra: unknown field/ },
    { name: "missing digest", body: { ...BASE, digest: undefined }, reason: /^digest: expected a string/ },
    {
      name: "sha512 digest",
      body: { ...BASE, digest: "sha512:" + "0".repeat(128) },
      reason: /^digest: expected sha256/,
    },
    { name: "upper-case hex", body: { ...BASE, digest: DIGEST.toUpperCase() }, reason: /^digest:/ },
    { name: "zero size", body: { ...BASE, size: 0 }, reason: /^size: must be between/ },
    { name: "fractional size", body: { ...BASE, size: 1.5 }, reason: /^size: expected an integer/ },
    { name: "size as string", body: { ...BASE, size: "1000" }, reason: /^size: expected an integer/ },
    {
      name: "too many pieces",
      body: { ...BASE, size: 100_001, pieceSize: 1 },
      reason: /^pieceSize: 100001 pieces exceed/,
    },
    { name: "bad peer id", body: { ...BASE, peerId: "a b" }, reason: /^peerId:/ },
    {
      name: "address without port",
      body: { ...BASE, address: "10.0.0.1" },
      reason: /^address: expected host:port/,
    },
    { name: "address port 0", body: { ...BASE, address: "10.0.0.1:0" }, reason: /^address:/ },
    { name: "have not base64", body: { ...BASE, have: "!!" }, reason: /^have: expected base64/ },
    {
      name: "have too short",
      body: { ...BASE, have: "AA==" },
      reason: /^have: expected 2 bytes for 10 pieces, got 1/,
    },
    { name: "have spare bits set", body: { ...BASE, have: "AAE=" }, reason: /^have: bits beyond piece 9/ },
    {
      name: "hash index out of range",
      body: { ...BASE, pieceHashes: { "10": HASH } },
      reason: /^pieceHashes\.10: not a piece index below 10/,
    },
    {
      name: "hash index not a number",
      body: { ...BASE, pieceHashes: { "01": HASH } },
      reason: /^pieceHashes\.01:/,
    },
    {
      name: "short hash",
      body: { ...BASE, pieceHashes: { "1": "abc" } },
      reason: /^pieceHashes\.1: expected 64/,
    },
    {
      name: "complete not boolean",
      body: { ...BASE, complete: "yes" },
      reason: /^complete: expected true or false/,
    },
  ];
  it.each(rejects)("rejects: $name", ({ body, reason: want }) => {
    expect(reason(() => decodeAnnounceRequest(body))).toMatch(want);
  });
});

describe("bitfields", () => {
  it("agrees with protocol/pieces.ts Bitfield on the wire form", () => {
    const field = new Bitfield(13);
    for (const i of [0, 7, 8, 12]) field.set(i);
    expect([...decodeBitfield(field.encode(), 13)]).toEqual([...field.bytes]);
    expect(Bitfield.decode(encodeBitfield(decodeBitfield(field.encode(), 13)), 13).missing()).toEqual(
      field.missing(),
    );
  });

  it("round-trips MSB-first", () => {
    const bits = decodeBitfield("gAE=", 16);
    expect([...bits]).toEqual([0x80, 0x01]);
    expect(encodeBitfield(bits)).toBe("gAE=");
  });
});

describe("other decoders", () => {
  it("parses leave with and without digest", () => {
    expect(decodeLeaveRequest({ peerId: "n1" })).toEqual({ peerId: "n1" });
    expect(decodeLeaveRequest({ peerId: "n1", digest: DIGEST })).toEqual({ peerId: "n1", digest: DIGEST });
    expect(reason(() => decodeLeaveRequest({ peerId: "n1", digest: "x" }))).toMatch(/^digest:/);
  });

  it("parses a response and rejects a lease past the end", () => {
    const response = {
      pieceSize: 100,
      pieceCount: 10,
      peers: [{ peerId: "n2", address: "10.0.0.2:65002", have: "/8A=", complete: true }],
      swarmMembers: 3,
      swarmCopies: 8,
      proofs: { "3": Buffer.alloc(64, 7).toString("base64") },
      trackerKey: Buffer.alloc(32, 1).toString("base64"),
      leases: [{ start: 0, end: 10, fetchEnd: 2 }],
      leaseTimeoutMs: 15000,
      announceIntervalMs: 10000,
      downloadIntervalMs: 1000,
    };
    expect(decodeAnnounceResponse(response)).toEqual({ ...response, proofs: { 3: response.proofs["3"] } });
    expect(reason(() => decodeAnnounceResponse({ ...response, proofs: { "3": "short" } }))).toMatch(
      /^proofs\.3:/,
    );
    expect(
      reason(() => decodeAnnounceResponse({ ...response, proofs: { "10": response.proofs["3"] } })),
    ).toMatch(/^proofs\.10:/);
    expect(reason(() => decodeAnnounceResponse({ ...response, trackerKey: "AAAA" }))).toMatch(/^trackerKey:/);
    expect(
      reason(() => decodeAnnounceResponse({ ...response, leases: [{ start: 5, end: 11, fetchEnd: 6 }] })),
    ).toMatch(/^leases\[0\]\.end: must be between 6 and 10/);
    expect(
      reason(() => decodeAnnounceResponse({ ...response, leases: [{ start: 5, end: 8, fetchEnd: 9 }] })),
    ).toMatch(/^leases\[0\]\.fetchEnd: must be between 5 and 8/);
    expect(
      reason(() => decodeAnnounceResponse({ ...response, peers: [{ ...response.peers[0], have: "" }] })),
    ).toMatch(/^peers\[0\]\.have: expected 2 bytes/);
  });

  it("maps JSON syntax errors and decodes error bodies", () => {
    expect(reason(() => parseJsonBody("{"))).toMatch(/^body: invalid JSON/);
    expect(new TrackerError("UNAUTHORIZED", "no").toBody()).toEqual({
      error: { code: "UNAUTHORIZED", message: "no" },
    });
    expect(decodeTrackerErrorBody({ error: { code: "X", message: "m" } })).toEqual({
      code: "X",
      message: "m",
    });
    expect(decodeTrackerErrorBody({ errors: [] })).toBeUndefined();
  });

  it.each(["a:1", "10.0.0.1:65535", "[::1]:80"])("accepts address %s", a =>
    expect(isPeerAddress(a)).toBe(true),
  );
  it.each(["a", ":1", "a:65536", "a b:1", "-a:1"])("rejects address %s", a =>
    expect(isPeerAddress(a)).toBe(false),
  );
});
