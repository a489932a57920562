/** Parses a registry's `WWW-Authenticate` challenge (RFC 9110 auth-params, Docker token auth). */

export type Challenge =
  | { scheme: "bearer"; realm: string; service?: string; scope?: string }
  | { scheme: "basic"; realm?: string };

const PARAM = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;

export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const match of header.slice(space + 1).matchAll(PARAM)) {
    params[match[1].toLowerCase()] = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3];
  }
  if (scheme === "basic") return { scheme: "basic", realm: params.realm };
  if (scheme !== "bearer" || !params.realm) return undefined;
  try {
    const realm = new URL(params.realm);
    if (realm.protocol !== "https:" && realm.protocol !== "http:") return undefined;
  } catch {
    return undefined;
  }
  return { scheme: "bearer", realm: params.realm, service: params.service, scope: params.scope };
}
