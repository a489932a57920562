import { bearerTokenCheck, parsePeerToken } from "./peer-token";

const TOKEN = "0123456789abcdef-token";

describe("parsePeerToken", () => {
  it("drops the file's surrounding whitespace", () => expect(parsePeerToken(`  ${TOKEN}\n`)).toBe(TOKEN));
  it("refuses a token shorter than 16 characters, saying how long it is", () =>
    expect(() => parsePeerToken("short-token\n")).toThrow("at least 16 characters, it has 11"));
});

describe("bearerTokenCheck", () => {
  const check = bearerTokenCheck(TOKEN);
  const rows: { name: string; header: string | undefined; ok: boolean }[] = [
    { name: "the token", header: `Bearer ${TOKEN}`, ok: true },
    { name: "no header", header: undefined, ok: false },
    { name: "an empty header", header: "", ok: false },
    { name: "the bare token", header: TOKEN, ok: false },
    { name: "another scheme", header: `Basic ${TOKEN}`, ok: false },
    { name: "lower-case scheme", header: `bearer ${TOKEN}`, ok: false },
    { name: "a prefix of the token", header: `Bearer ${TOKEN.slice(0, -1)}`, ok: false },
    { name: "the token and more", header: `Bearer ${TOKEN}x`, ok: false },
    { name: "an empty token", header: "Bearer ", ok: false },
  ];
  it.each(rows)("$name -> $ok", ({ header, ok }) => expect(check(header)).toBe(ok));

  it("refuses to check against an empty token", () => expect(() => bearerTokenCheck("")).toThrow(RangeError));
});
