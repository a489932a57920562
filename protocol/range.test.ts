import { resolveRange, contentRange } from "./range";
import { OciError } from "./oci-error";

describe("resolveRange parses", () => {
  const rows = [
    { name: "absent", header: undefined, size: 10, want: undefined },
    { name: "closed", header: "bytes=0-4", size: 10, want: { start: 0, end: 4 } },
    { name: "open-ended", header: "bytes=3-", size: 10, want: { start: 3, end: 9 } },
    { name: "end clamped", header: "bytes=3-100", size: 10, want: { start: 3, end: 9 } },
    { name: "suffix", header: "bytes=-4", size: 10, want: { start: 6, end: 9 } },
    { name: "suffix longer than blob", header: "bytes=-40", size: 10, want: { start: 0, end: 9 } },
    { name: "multiple ranges ignored", header: "bytes=0-1,4-5", size: 10, want: undefined },
    { name: "another unit ignored (RFC 9110)", header: "chunks=1-2", size: 10, want: undefined },
    { name: "another unit with garbage ignored", header: "items=banana", size: 10, want: undefined },
    { name: "unit case-insensitive", header: "Bytes=1-2", size: 10, want: { start: 1, end: 2 } },
  ];
  it.each(rows)("$name", ({ header, size, want }) => {
    expect(resolveRange(header, size)).toEqual(want);
  });
});

describe("resolveRange rejects", () => {
  const rows = [
    { name: "garbage", header: "bytes=1-x" },
    { name: "no unit", header: "1-2" },
    { name: "negative", header: "bytes=-" },
    { name: "end before start", header: "bytes=5-2" },
    { name: "beyond size", header: "bytes=10-" },
    { name: "zero suffix", header: "bytes=-0" },
    { name: "huge number", header: "bytes=99999999999999999999-" },
  ];
  it.each(rows)("$name", ({ header }) => {
    expect(() => resolveRange(header, 10)).toThrow(OciError);
  });
});

it("formats Content-Range", () => {
  expect(contentRange({ start: 2, end: 5 }, 10)).toBe("bytes 2-5/10");
});
