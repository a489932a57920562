import { parseChallenge } from "./www-authenticate";

describe("parseChallenge parses", () => {
  const rows = [
    {
      name: "docker hub bearer",
      header:
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      want: {
        scheme: "bearer",
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/nginx:pull",
      },
    },
    {
      name: "basic",
      header: 'Basic realm="Registry Realm"',
      want: { scheme: "basic", realm: "Registry Realm" },
    },
    {
      name: "unquoted and spaced params",
      header: "Bearer realm=http://127.0.0.1:1/t , service=x",
      want: { scheme: "bearer", realm: "http://127.0.0.1:1/t", service: "x", scope: undefined },
    },
  ];
  it.each(rows)("$name", ({ header, want }) => expect(parseChallenge(header)).toEqual(want));
});

describe("parseChallenge rejects", () => {
  const rows = [
    { name: "absent", header: undefined },
    { name: "unknown scheme", header: 'Negotiate realm="x"' },
    { name: "bearer without realm", header: 'Bearer service="x"' },
    { name: "realm not http", header: 'Bearer realm="file:///etc/passwd"' },
  ];
  it.each(rows)("$name", ({ header }) => expect(parseChallenge(header)).toBeUndefined());
});
