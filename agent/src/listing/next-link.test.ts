import { agentNextLink, agentPath, originNextQuery } from "./next-link";

const TAGS = "/v2/team/app/tags/list";

describe("originNextQuery follows", () => {
  const rows = [
    {
      name: "distribution's relative link",
      header: '</v2/team/app/tags/list?last=b&n=2>; rel="next"',
      want: { last: "b", n: "2" },
    },
    {
      name: "an absolute link to the origin",
      header: '<https://registry.example.com/v2/team/app/tags/list?n=2&last=b>; rel="next"',
      want: { n: "2", last: "b" },
    },
    {
      name: "rel without quotes",
      header: "</v2/team/app/tags/list?n=1&last=a>; rel=next",
      want: { n: "1", last: "a" },
    },
    {
      name: "next among several links and rel values",
      header:
        '</v2/team/app/tags/list?n=1>; rel="prev", </v2/team/app/tags/list?n=1&last=z>; rel="next last"',
      want: { n: "1", last: "z" },
    },
    {
      name: "an encoded last",
      header: '</v2/team/app/tags/list?n=1&last=v1%2B2>; rel="next"',
      want: { n: "1", last: "v1+2" },
    },
  ];
  it.each(rows)("$name", ({ header, want }) => {
    expect(Object.fromEntries(originNextQuery(header, TAGS) ?? [])).toEqual(want);
  });
});

describe("originNextQuery drops", () => {
  const rows = [
    { name: "no header", header: undefined },
    { name: "a link that is not next", header: '</v2/team/app/tags/list?n=1&last=a>; rel="prev"' },
    { name: "another repository", header: '</v2/team/other/tags/list?n=1&last=a>; rel="next"' },
    { name: "another endpoint", header: '</v2/team/app/manifests/1>; rel="next"' },
    { name: "a path that climbs out", header: '</v2/team/app/tags/../../other/tags/list?n=1>; rel="next"' },
    { name: "garbage", header: "not a link header" },
  ];
  it.each(rows)("$name", ({ header }) => expect(originNextQuery(header, TAGS)).toBeUndefined());
});

describe("agentPath and agentNextLink point back at the agent in the caller's naming", () => {
  const query = new URLSearchParams({ n: "2", last: "b" });
  const rows = [
    {
      name: "rewrite naming keeps the registry in the path",
      target: { naming: "rewrite", registry: "registry.test", repo: "team/app", endpoint: "tags/list" },
      want: "/v2/registry.test/team/app/tags/list?n=2&last=b",
    },
    {
      name: "mirror naming adds ns",
      target: { naming: "mirror", registry: "docker.io", repo: "library/nginx", endpoint: "tags/list" },
      want: "/v2/library/nginx/tags/list?n=2&last=b&ns=docker.io",
    },
    {
      name: "referrers, mirror naming",
      target: {
        naming: "mirror",
        registry: "r.io",
        repo: "a",
        endpoint: `referrers/sha256:${"0".repeat(64)}`,
      },
      want: `/v2/a/referrers/sha256:${"0".repeat(64)}?n=2&last=b&ns=r.io`,
    },
  ] as const;
  it.each(rows)("$name", ({ target, want }) => {
    expect(agentPath(target, query)).toBe(want);
    expect(agentNextLink(target, query)).toBe(`<${want}>; rel="next"`);
  });

  it("an ns the origin put in its link is replaced, never passed on", () => {
    const target = { naming: "mirror", registry: "r.io", repo: "a", endpoint: "tags/list" } as const;
    expect(agentPath(target, new URLSearchParams({ n: "1", ns: "evil.io" }))).toBe(
      "/v2/a/tags/list?n=1&ns=r.io",
    );
    expect(agentPath({ ...target, naming: "rewrite" }, new URLSearchParams({ ns: "evil.io" }))).toBe(
      "/v2/r.io/a/tags/list",
    );
  });
});
