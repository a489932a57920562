import { intoPieces } from "./piece-chunks";

async function collect(chunks: Buffer[], first: number, end: number, size: number, pieceSize: number) {
  async function* source() {
    yield* chunks;
  }
  const out: { index: number; data: string }[] = [];
  for await (const { index, data } of intoPieces(source(), first, end, size, pieceSize))
    out.push({ index, data: data.toString() });
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
