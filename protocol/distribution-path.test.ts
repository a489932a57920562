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
    {
      name: "the last endpoint marker wins",
      url: `/v2/r.io/manifests/blobs/${D}`,
      want: { kind: "blob", registry: "r.io", repo: "manifests", digest: D },
    },
    {
      name: "tags list, rewrite naming",
      url: "/v2/r.io/team/app/tags/list",
      want: { kind: "tags", registry: "r.io", repo: "team/app", naming: "rewrite", query: "" },
    },
    {
      name: "tags list, mirror naming, with n and last",
      url: "/v2/team/app/tags/list?n=2&last=v1.0&ns=R.io",
      want: {
        kind: "tags",
        registry: "r.io",
        repo: "team/app",
        naming: "mirror",
        n: 2,
        last: "v1.0",
        query: "n=2&last=v1.0",
      },
    },
    {
      name: "tags list with n=0 and an empty last",
      url: "/v2/r.io/a/tags/list?n=0&last=",
      want: { kind: "tags", registry: "r.io", repo: "a", naming: "rewrite", n: 0, query: "n=0&last=" },
    },
    {
      name: "tags list of a repo named manifests",
      url: "/v2/r.io/a/manifests/tags/list",
      want: { kind: "tags", registry: "r.io", repo: "a/manifests", naming: "rewrite", query: "" },
    },
    {
      name: "manifest of a repo named tags/list",
      url: "/v2/r.io/tags/list/manifests/1",
      want: { kind: "manifest", registry: "r.io", repo: "tags/list", reference: "1", isDigest: false },
    },
    {
      name: "referrers, rewrite naming",
      url: `/v2/r.io/a/referrers/${D}`,
      want: { kind: "referrers", registry: "r.io", repo: "a", naming: "rewrite", digest: D, query: "" },
    },
    {
      name: "referrers, mirror naming, artifactType filter and an origin's page token",
      url: `/v2/a/referrers/${D}?artifactType=application%2Fvnd.example.sbom%2Bjson&ns=r.io&page=x+1`,
      want: {
        kind: "referrers",
        registry: "r.io",
        repo: "a",
        naming: "mirror",
        digest: D,
        artifactType: "application/vnd.example.sbom+json",
        query: "artifactType=application%2Fvnd.example.sbom%2Bjson&page=x+1",
      },
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
    { name: "catalog", url: "/v2/_catalog", code: "NAME_INVALID" },
    { name: "tags with a suffix", url: "/v2/r.io/a/tags/lists", code: "NAME_INVALID" },
    { name: "negative n", url: "/v2/r.io/a/tags/list?n=-1", code: "PAGINATION_NUMBER_INVALID" },
    { name: "n not a number", url: "/v2/r.io/a/tags/list?n=ten", code: "PAGINATION_NUMBER_INVALID" },
    { name: "n too large", url: "/v2/r.io/a/tags/list?n=100001", code: "PAGINATION_NUMBER_INVALID" },
    {
      name: "referrers of a malformed digest",
      url: "/v2/r.io/a/referrers/sha256:xyz",
      code: "DIGEST_INVALID",
    },
    { name: "referrers of a tag", url: "/v2/r.io/a/referrers/latest", code: "DIGEST_INVALID" },
    { name: "referrers without a digest", url: "/v2/r.io/a/referrers/", code: "NAME_INVALID" },
    {
      name: "referrers, unsupported algorithm",
      url: "/v2/r.io/a/referrers/sha512:" + "a".repeat(128),
      code: "UNSUPPORTED",
    },
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
