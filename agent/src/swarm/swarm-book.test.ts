import { SwarmBook } from "./swarm-book";

const A = "sha256:" + "a".repeat(64);
const B = "sha256:" + "b".repeat(64);

describe("SwarmBook leases", () => {
  it("counts downloads holding an origin lease until they drop it or finish", () => {
    const book = new SwarmBook();
    book.holdsLease(A, true);
    book.holdsLease(A, true);
    book.holdsLease(B, true);
    expect(book.leasesHeld).toBe(2);
    book.holdsLease(A, false);
    expect(book.leasesHeld).toBe(1);
    book.finished(B, undefined);
    expect(book.leasesHeld).toBe(0);
  });
});
