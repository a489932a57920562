import { parseAuthorization } from "./client-credentials";

const basic = (s: string) => "Basic " + Buffer.from(s).toString("base64");

describe("parseAuthorization", () => {
  it("treats no header as anonymous", () => expect(parseAuthorization(undefined)?.kind).toBe("anonymous"));
  it("decodes Basic", () => {
    expect(parseAuthorization(basic("u:p:w"))).toMatchObject({
      kind: "basic",
      username: "u",
      password: "p:w",
    });
  });
  it("passes bearer tokens", () =>
    expect(parseAuthorization("Bearer abc")).toMatchObject({ kind: "bearer", token: "abc" }));
  it("fingerprints differ by secret and never contain it", () => {
    const a = parseAuthorization(basic("u:secret1"))!;
    const b = parseAuthorization(basic("u:secret2"))!;
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(a.fingerprint).not.toContain("secret");
  });
  const rejects = [
    { name: "unknown scheme", header: "Digest x" },
    { name: "no value", header: "Basic" },
    { name: "basic without colon", header: basic("nocolon") },
    { name: "huge", header: "Bearer " + "a".repeat(20000) },
  ];
  it.each(rejects)("rejects $name", ({ header }) => expect(parseAuthorization(header)).toBeUndefined());
});
