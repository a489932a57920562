import fc from "fast-check";
import {
  formatImageReference,
  ImageReference,
  normaliseRegistryHost,
  parseImageReference,
  tryParseImageReference,
} from "./image-reference";

const SHA = "sha256:" + "a".repeat(64);

describe("parseImageReference parses", () => {
  const rows: { name: string; input: string; want: ImageReference }[] = [
    { name: "short name", input: "nginx", want: { registry: "docker.io", repository: "library/nginx" } },
    {
      name: "short name with tag",
      input: "nginx:1.25",
      want: { registry: "docker.io", repository: "library/nginx", tag: "1.25" },
    },
    {
      name: "user repo on hub",
      input: "bitnami/redis",
      want: { registry: "docker.io", repository: "bitnami/redis" },
    },
    {
      name: "docker.io explicit single component",
      input: "docker.io/busybox",
      want: { registry: "docker.io", repository: "library/busybox" },
    },
    {
      name: "index.docker.io alias",
      input: "index.docker.io/library/alpine:3",
      want: { registry: "docker.io", repository: "library/alpine", tag: "3" },
    },
    {
      name: "registry-1.docker.io alias",
      input: "registry-1.docker.io/alpine",
      want: { registry: "docker.io", repository: "library/alpine" },
    },
    {
      name: "registry with dots",
      input: "registry.example.com/team/app:v1",
      want: { registry: "registry.example.com", repository: "team/app", tag: "v1" },
    },
    {
      name: "registry with port",
      input: "registry.test:5000/app:latest",
      want: { registry: "registry.test:5000", repository: "app", tag: "latest" },
    },
    { name: "localhost", input: "localhost/app", want: { registry: "localhost", repository: "app" } },
    {
      name: "localhost with port",
      input: "localhost:5000/a/b/c",
      want: { registry: "localhost:5000", repository: "a/b/c" },
    },
    {
      name: "name that looks like a port is a tag on docker hub",
      input: "localhost:5000",
      want: { registry: "docker.io", repository: "library/localhost", tag: "5000" },
    },
    { name: "IPv4 host", input: "10.0.0.1:5000/app", want: { registry: "10.0.0.1:5000", repository: "app" } },
    { name: "IPv6 host", input: "[::1]:5000/app", want: { registry: "[::1]:5000", repository: "app" } },
    {
      name: "digest without tag",
      input: `registry.example.com/app@${SHA}`,
      want: { registry: "registry.example.com", repository: "app", digest: SHA },
    },
    {
      name: "tag and digest",
      input: `nginx:1@${SHA}`,
      want: { registry: "docker.io", repository: "library/nginx", tag: "1", digest: SHA },
    },
    {
      name: "separators in path",
      input: "a.b/x__y/p-q--r/s.t_u",
      want: { registry: "a.b", repository: "x__y/p-q--r/s.t_u" },
    },
    {
      name: "uppercase host",
      input: "Registry.Example.com/app",
      want: { registry: "registry.example.com", repository: "app" },
    },
    {
      name: "uppercase first component reads as a host",
      input: "Foo/bar",
      want: { registry: "foo", repository: "bar" },
    },
    {
      name: "128-char tag",
      input: "app:" + "t".repeat(128),
      want: { registry: "docker.io", repository: "library/app", tag: "t".repeat(128) },
    },
    {
      name: "name of exactly 255",
      input: "r.io/" + "a".repeat(250),
      want: { registry: "r.io", repository: "a".repeat(250) },
    },
  ];
  it.each(rows)("$name", ({ input, want }) => {
    expect(parseImageReference(input)).toEqual(want);
  });
});

describe("parseImageReference rejects", () => {
  const rows: { name: string; input: string; reason: RegExp }[] = [
    { name: "empty", input: "", reason: /empty/ },
    { name: "uppercase repository", input: "registry.example.com/Team/app", reason: /lowercase/ },
    { name: "uppercase short name", input: "Nginx", reason: /lowercase/ },
    { name: "name of 256", input: "r.io/" + "a".repeat(251), reason: /255/ },
    { name: "129-char tag", input: "app:" + "t".repeat(129), reason: /tag/ },
    { name: "tag starting with dot", input: "app:.x", reason: /tag/ },
    { name: "empty tag", input: "app:", reason: /tag/ },
    { name: "short digest", input: "app@sha256:abc", reason: /digest/ },
    { name: "uppercase digest hex", input: "app@sha256:" + "A".repeat(64), reason: /lowercase/ },
    { name: "unknown digest algorithm", input: "app@md5:" + "a".repeat(32), reason: /unsupported/ },
    { name: "image id", input: "a".repeat(64), reason: /image id/ },
    { name: "double slash", input: "r.io//app", reason: /path component/ },
    { name: "trailing slash", input: "r.io/app/", reason: /path component/ },
    { name: "leading separator", input: "r.io/-app", reason: /path component/ },
    { name: "host only", input: "r.io/", reason: /path component|empty/ },
    { name: "bad host", input: "-bad.io/app", reason: /registry host/ },
    { name: "port in path", input: "127.0.0.1:65001/registry.test:5000/app", reason: /tag|path component/ },
    { name: "whitespace", input: "nginx latest", reason: /path component|tag/ },
    { name: "scheme", input: "https://r.io/app", reason: /./ },
  ];
  it.each(rows)("$name", ({ input, reason }) => {
    expect(() => parseImageReference(input)).toThrow(reason);
    expect(tryParseImageReference(input)).toBeUndefined();
  });
});

describe("normaliseRegistryHost", () => {
  it.each([
    ["index.docker.io", "docker.io"],
    ["REGISTRY-1.DOCKER.IO", "docker.io"],
    ["Quay.io", "quay.io"],
  ])("%s -> %s", (input, want) => expect(normaliseRegistryHost(input)).toBe(want));
});

describe("formatImageReference", () => {
  it("round-trips a parsed reference to a fixed point", () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8})?$/);
    const host = fc.constantFrom(
      "docker.io",
      "index.docker.io",
      "r.example.com",
      "localhost:5000",
      "10.0.0.1",
    );
    const tag = fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined });
    const digest = fc.option(
      fc.stringMatching(/^[a-f0-9]{64}$/).map(hex => "sha256:" + hex),
      { nil: undefined },
    );
    fc.assert(
      fc.property(host, fc.array(component, { minLength: 1, maxLength: 4 }), tag, digest, (h, path, t, d) => {
        const text = `${h}/${path.join("/")}${t ? ":" + t : ""}${d ? "@" + d : ""}`;
        const parsed = parseImageReference(text);
        expect(parseImageReference(formatImageReference(parsed))).toEqual(parsed);
        expect(parsed.tag).toBe(t);
        expect(parsed.digest).toBe(d);
      }),
    );
  });

  it("never throws anything but ImageReferenceError on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), text => {
        try {
          parseImageReference(text);
        } catch (err) {
          expect((err as Error).name).toBe("ImageReferenceError");
        }
      }),
    );
  });
});
