import { parseDistributionPath } from "./distribution-path";
import { OciError } from "./oci-error";

const D = "sha256:" + "a".repeat(64);

describe("parseDistributionPath parses", () => {
  const rows = [
    { name: "base", url: "/v2/", want: { kind: "base" } },
    {
      name: "rewrite manifest by tag",
      url: "/v2/registry.example.com/team/app/manifests/1.0",
      want: {
        kind: "manifest",
        registry: "registry.example.com",
        repo: "team/app",
        reference: "1.0",
        isDigest: false,
      },
    },
    {
      name: "rewrite with port, host lower-cased",
      url: "/v2/Reg.Test:5000/app/blobs/" + D,
      want: { kind: "blob", registry: "reg.test:5000", repo: "app", digest: D },
    },
    {
      name: "mirror naming with ns",
      url: "/v2/library/nginx/manifests/latest?ns=docker.io",
      want: {
        kind: "manifest",
        registry: "docker.io",
        repo: "library/nginx",
        reference: "latest",
        isDigest: false,
      },
    },
    {
      name: "manifest by digest",
      url: `/v2/r.io/a/manifests/${D}`,
      want: { kind: "manifest", registry: "r.io", repo: "a", reference: D, isDigest: true },
    },
    {
      name: "repo named like an endpoint",
      url: `/v2/r.io/blobs/blobs/${D}`,
      want: { kind: "blob", registry: "r.io", repo: "blobs", digest: D },
    },
  ];
  it.each(rows)("$name", ({ url, want }) => {
    expect(parseDistributionPath(url)).toEqual(want);
  });
});

describe("parseDistributionPath rejects", () => {
  const rows = [
    { name: "dot-dot component", url: `/v2/r.io/../etc/blobs/${D}`, code: "NAME_INVALID" },
    { name: "encoded slash", url: `/v2/r.io/a%2f..%2fb/blobs/${D}`, code: "NAME_INVALID" },
    { name: "encoded dot", url: `/v2/r.io/%2e%2e/blobs/${D}`, code: "NAME_INVALID" },
    { name: "uppercase repo", url: `/v2/r.io/App/blobs/${D}`, code: "NAME_INVALID" },
    { name: "no registry in rewrite naming", url: `/v2/app/blobs/${D}`, code: "NAME_INVALID" },
    { name: "bad ns host", url: `/v2/app/blobs/${D}?ns=a/b`, code: "NAME_INVALID" },
    { name: "malformed digest", url: "/v2/r.io/a/blobs/sha256:xyz", code: "DIGEST_INVALID" },
    { name: "unsupported algorithm", url: "/v2/r.io/a/blobs/sha512:" + "a".repeat(128), code: "UNSUPPORTED" },
    { name: "bad tag", url: "/v2/r.io/a/manifests/-bad", code: "MANIFEST_INVALID" },
    { name: "uploads endpoint", url: "/v2/r.io/a/blobs/uploads/", code: "UNSUPPORTED" },
    { name: "tags list endpoint", url: "/v2/r.io/a/tags/list", code: "NAME_INVALID" },
    { name: "not v2", url: "/v1/r.io/a/blobs/x", code: "NAME_INVALID" },
    { name: "huge url", url: "/v2/r.io/" + "a/".repeat(5000) + "blobs/" + D, code: "NAME_INVALID" },
    { name: "long name", url: "/v2/r.io/" + "a".repeat(256) + "/blobs/" + D, code: "NAME_INVALID" },
  ];
  it.each(rows)("$name", ({ url, code }) => {
    let thrown: unknown;
    try {
      parseDistributionPath(url);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OciError);
    expect((thrown as OciError).code).toBe(code);
  });
});
