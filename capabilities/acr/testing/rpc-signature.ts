/**
 * The Alibaba Cloud RPC signature (SignatureVersion 1.0, HMAC-SHA1), written from the published
 * algorithm and independent of `@alicloud/openapi-util`, so the fake Container Registry API checks
 * requests the way the service does rather than the way the client library happens to sign them:
 *
 * 1. every parameter except `Signature` (query, and form body for POST), sorted by name (byte order);
 * 2. names and values percent-encoded as UTF-8 where only `A-Z a-z 0-9 - _ . ~` stay literal
 *    (so a space is `%20`, `*` is `%2A`, `~` stays `~`), joined `name=value` with `&`;
 * 3. StringToSign = METHOD + "&" + encode("/") + "&" + encode(canonicalised query);
 * 4. Signature = base64(HMAC-SHA1(key = AccessKeySecret + "&", StringToSign)).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const UNRESERVED = /^[A-Za-z0-9\-_.~]$/;

/** RFC 3986 percent-encoding, byte by byte, upper-case hex (the rule the service applies). */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    out +=
      byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function canonicalQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter(name => name !== "Signature")
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(name => `${percentEncode(name)}=${percentEncode(params[name])}`)
    .join("&");
}

export function stringToSign(method: string, params: Readonly<Record<string, string>>): string {
  return `${method.toUpperCase()}&${percentEncode("/")}&${percentEncode(canonicalQuery(params))}`;
}

export function rpcSignature(
  method: string,
  params: Readonly<Record<string, string>>,
  accessKeySecret: string,
): string {
  return createHmac("sha1", `${accessKeySecret}&`)
    .update(stringToSign(method, params), "utf8")
    .digest("base64");
}

/** Constant-time comparison of a presented signature with the expected one. */
export function signatureMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
