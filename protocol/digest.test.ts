import { isDigestMismatch, parseDigest, SHA256_DIGEST, SHA256_HEX } from "./digest";

const HEX = "ab".repeat(32);

describe("digests", () => {
  const parses = [{ name: "sha256", text: `sha256:${HEX}`, want: { algorithm: "sha256", hex: HEX } }];
  it.each(parses)("parses $name", ({ text, want }) => expect(parseDigest(text)).toEqual(want));

  const rejects = [
    { name: "no algorithm", text: HEX, code: "DIGEST_INVALID" },
    { name: "upper-case hex", text: `sha256:${HEX.toUpperCase()}`, code: "DIGEST_INVALID" },
    { name: "short hex", text: `sha256:${HEX.slice(2)}`, code: "DIGEST_INVALID" },
    { name: "another algorithm", text: `sha512:${HEX}${HEX}`, code: "UNSUPPORTED" },
  ];
  it.each(rejects)("rejects $name with $code", ({ text, code }) =>
    expect(() => parseDigest(text)).toThrow(expect.objectContaining({ code })),
  );

  it("SHA256_DIGEST accepts exactly what the parser accepts", () => {
    expect(SHA256_DIGEST.test(`sha256:${HEX}`)).toBe(true);
    for (const { text } of rejects) expect(SHA256_DIGEST.test(text)).toBe(false);
  });

  it("SHA256_HEX is the hex part alone", () => {
    expect(SHA256_HEX.test(HEX)).toBe(true);
    expect(SHA256_HEX.test(`sha256:${HEX}`)).toBe(false);
    expect(SHA256_HEX.test(HEX.toUpperCase())).toBe(false);
  });

  it("recognises a digest mismatch by its code only", () => {
    expect(isDigestMismatch({ code: "PEERPULL_DIGEST_MISMATCH" })).toBe(true);
    expect(isDigestMismatch(new Error("PEERPULL_DIGEST_MISMATCH"))).toBe(false);
    expect(isDigestMismatch(undefined)).toBe(false);
  });
});
