import { GrantBook } from "./grants";

const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);

describe("GrantBook", () => {
  it("grants per (fingerprint, scope) until the TTL", () => {
    const book = new GrantBook(1000);
    book.grant("alice", "r.io/app", [{ digest: D1, size: 5 }], 0);
    expect(book.lookup("alice", "r.io/app", D1, 999)).toEqual({ expiresAt: 1000, size: 5 });
    expect(book.lookup("alice", "r.io/app", D1, 1000)).toBeUndefined();
    expect(book.lookup("bob", "r.io/app", D1, 1)).toBeUndefined();
    expect(book.lookup("alice", "r.io/other", D1, 1)).toBeUndefined();
    expect(book.lookup("alice", "r.io/app", D2, 1)).toBeUndefined();
  });

  it("answers the offline rule only for pairs authorized within the grace", () => {
    const book = new GrantBook(1000);
    book.grant("alice", "r.io/app", [{ digest: D1 }], 0);
    expect(book.authorizedWithin("alice", "r.io/app", 500, 400)).toBe(true);
    expect(book.authorizedWithin("alice", "r.io/app", 500, 600)).toBe(false);
    expect(book.authorizedWithin("mallory", "r.io/app", 1e9, 1)).toBe(false);
  });

  it("stays bounded and sweeps expired grants", () => {
    const book = new GrantBook(10, 2, 2);
    book.grant("a", "s", [{ digest: D1 }, { digest: D2 }, { digest: "sha256:" + "3".repeat(64) }], 0);
    expect(book.lookup("a", "s", D1, 1)).toBeUndefined();
    expect(book.lookup("a", "s", D2, 1)).toBeDefined();
    book.grant("b", "s", [{ digest: D1 }], 0);
    book.grant("c", "s", [{ digest: D1 }], 0);
    expect(book.lookup("a", "s", D2, 1)).toBeUndefined();
    book.sweep(100, 0);
    expect(book.lookup("c", "s", D1, 1)).toBeUndefined();
  });
});
