import { canonicalQuery, percentEncode, rpcSignature, signatureMatches, stringToSign } from "./rpc-signature";

// The worked example of the published RPC signature document (ECS DescribeRegions, secret "testsecret").
const DOCUMENTED = {
  AccessKeyId: "testid",
  Action: "DescribeRegions",
  Format: "XML",
  SignatureMethod: "HMAC-SHA1",
  SignatureNonce: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
  SignatureVersion: "1.0",
  Timestamp: "2016-02-23T12:46:24Z",
  Version: "2014-05-26",
};

describe("RPC signature (written from the published algorithm)", () => {
  it("reproduces the documented string to sign and signature", () => {
    expect(stringToSign("GET", DOCUMENTED)).toBe(
      "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
    );
    expect(rpcSignature("GET", DOCUMENTED, "testsecret")).toBe("OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  });

  it("sorts by name and leaves Signature out", () => {
    expect(canonicalQuery({ b: "2", Signature: "x", a: "1", B: "3" })).toBe("B=3&a=1&b=2");
  });

  const encodings = [
    { name: "unreserved stay literal", input: "AZaz09-_.~", output: "AZaz09-_.~" },
    { name: "space is %20, never +", input: "a b", output: "a%20b" },
    { name: "characters encodeURIComponent leaves alone", input: "!'()*", output: "%21%27%28%29%2A" },
    { name: "plus, slash, equals, ampersand, colon", input: "+/=&:", output: "%2B%2F%3D%26%3A" },
    { name: "UTF-8 bytes, upper-case hex", input: "é中", output: "%C3%A9%E4%B8%AD" },
  ];
  it.each(encodings)("percent-encodes: $name", ({ input, output }) => {
    expect(percentEncode(input)).toBe(output);
  });

  it("depends on method, every parameter and the secret", () => {
    const base = rpcSignature("POST", DOCUMENTED, "testsecret");
    expect(rpcSignature("GET", DOCUMENTED, "testsecret")).not.toBe(base);
    expect(rpcSignature("POST", { ...DOCUMENTED, Format: "JSON" }, "testsecret")).not.toBe(base);
    expect(rpcSignature("POST", DOCUMENTED, "testsecret2")).not.toBe(base);
  });

  it("compares signatures exactly", () => {
    expect(signatureMatches("abc=", "abc=")).toBe(true);
    expect(signatureMatches("abc=", "abd=")).toBe(false);
    expect(signatureMatches("abc", "abc=")).toBe(false);
  });
});
