import { intoPieces, LeaseLostError, whileLeased } from "./piece-chunks";

async function collect(chunks: Buffer[], first: number, end: number, size: number, pieceSize: number) {
  async function* source() {
    yield* chunks;
  }
  const out: { index: number; data: string }[] = [];
  for await (const { index, parts } of intoPieces(source(), first, end, size, pieceSize))
    out.push({ index, data: Buffer.concat(parts).toString() });
  return out;
}

const bytes = (text: string) => Buffer.from(text);

describe("intoPieces", () => {
  it.each([
    {
      name: "chunks across piece boundaries",
      chunks: ["ab", "cdefg", "h", "ij"],
      first: 0,
      end: 3,
      want: ["abcd", "efgh", "ij"],
    },
    {
      name: "one chunk, several pieces, from a later piece",
      chunks: ["efghij"],
      first: 1,
      end: 3,
      want: ["efgh", "ij"],
    },
    { name: "a single middle piece", chunks: ["e", "fgh"], first: 1, end: 2, want: ["efgh"] },
  ])("cuts $name", async ({ chunks, first, end, want }) => {
    const got = await collect(chunks.map(bytes), first, end, 10, 4);
    expect(got).toEqual(want.map((data, i) => ({ index: first + i, data })));
  });

  it.each([
    { name: "a stream that ends early", chunks: ["abcde"], error: "ended inside piece 1" },
    { name: "a stream that runs long", chunks: ["abcdefghijk"], error: "runs past piece 2" },
  ])("rejects $name", async ({ chunks, error }) => {
    await expect(collect(chunks.map(bytes), 0, 3, 10, 4)).rejects.toThrow(error);
  });
});

describe("whileLeased", () => {
  it("passes chunks while the lease holds and ends the stream with LeaseLostError once it does not", async () => {
    let leased = true;
    let closed = false;
    async function* source() {
      try {
        yield Buffer.from("a");
        yield Buffer.from("b");
        yield Buffer.from("c");
      } finally {
        closed = true;
      }
    }
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of whileLeased(source(), () => leased)) {
          got.push(chunk.toString());
          leased = false;
        }
      })(),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(got).toEqual(["a"]);
    expect(closed).toBe(true); // the upstream stream is released
  });
});
