import { GrantBook } from "./grants";

const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);
const D3 = "sha256:" + "3".repeat(64);

describe("GrantBook", () => {
  it("grants exactly the (fingerprint, scope, digest) triple, until the TTL", () => {
    const book = new GrantBook(1000);
    book.grant("alice", "r.io/app", [{ digest: D1, size: 5 }], 0);
    expect(book.lookup("alice", "r.io/app", D1, 999)).toEqual({ confirmedAt: 0, size: 5 });
    expect(book.lookup("alice", "r.io/app", D1, 1000)).toBeUndefined();
    expect(book.lookup("bob", "r.io/app", D1, 1)).toBeUndefined();
    expect(book.lookup("alice", "r.io/other", D1, 1)).toBeUndefined();
    expect(book.lookup("alice", "r.io/app", D2, 1)).toBeUndefined();
  });

  it("answers the offline rule per triple, never for a digest the pair was not confirmed for", () => {
    const book = new GrantBook(1000);
    book.grant("alice", "r.io/app", [{ digest: D1 }], 0);
    expect(book.confirmedWithin("alice", "r.io/app", D1, 5000, 4000)).toBeDefined();
    expect(book.confirmedWithin("alice", "r.io/app", D1, 5000, 5000)).toBeUndefined();
    expect(book.confirmedWithin("alice", "r.io/app", D2, 5000, 1)).toBeUndefined();
    expect(book.confirmedWithin("mallory", "r.io/app", D1, 1e9, 1)).toBeUndefined();
  });

  it("keys cannot collide across fields", () => {
    const book = new GrantBook(1000);
    book.grant("a", "b\u0000c", [{ digest: D1 }], 0);
    expect(book.lookup("a\u0000b", "c", D1, 1)).toBeUndefined();
  });

  it("stays bounded, dropping the least recently used triple", () => {
    const book = new GrantBook(1000, 2);
    book.grant("a", "s", [{ digest: D1 }, { digest: D2 }], 0);
    expect(book.lookup("a", "s", D1, 1)).toBeDefined(); // D1 is now the most recently used
    book.grant("a", "s", [{ digest: D3 }], 0);
    expect(book.size).toBe(2);
    expect(book.lookup("a", "s", D2, 1)).toBeUndefined();
    expect(book.lookup("a", "s", D1, 1)).toBeDefined();
  });

  it("sweeps grants older than the keep time", () => {
    const book = new GrantBook(1000);
    book.grant("a", "s", [{ digest: D1 }], 0);
    book.grant("a", "s", [{ digest: D2 }], 50);
    book.sweep(100, 60);
    expect(book.size).toBe(1);
    expect(book.lookup("a", "s", D2, 100)).toBeDefined();
  });

  it("rejects bad options", () => {
    expect(() => new GrantBook(0)).toThrow("ttlMs");
    expect(() => new GrantBook(1, 0)).toThrow("maxTriples");
  });
});
