import {
  emptyReferrersIndex,
  INDEX_MEDIA_TYPE,
  originFilteredByArtifactType,
  parseIndex,
  referrersFromIndex,
  referrersTag,
} from "./referrers-index";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const SBOM = "application/vnd.example.sbom+json";
const SIG = "application/vnd.example.signature";
const descriptor = (digest: string, artifactType?: string) => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest,
  size: 500,
  ...(artifactType ? { artifactType } : {}),
});
const INDEX = {
  schemaVersion: 2,
  mediaType: INDEX_MEDIA_TYPE,
  manifests: [descriptor(D("1"), SBOM), descriptor(D("2"), SIG), descriptor(D("3"))],
  annotations: { "org.example": "kept" },
};
const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));

describe("referrersFromIndex", () => {
  const rows = [
    {
      name: "no filter: every descriptor",
      artifactType: undefined,
      originFiltered: false,
      want: ["1", "2", "3"],
      filtered: false,
    },
    { name: "filter applied here", artifactType: SBOM, originFiltered: false, want: ["1"], filtered: true },
    {
      name: "a type nobody has",
      artifactType: "application/x-none",
      originFiltered: false,
      want: [],
      filtered: true,
    },
    // The origin said it filtered: its answer is passed on as it is.
    {
      name: "filter applied by the origin",
      artifactType: SBOM,
      originFiltered: true,
      want: ["1", "2", "3"],
      filtered: true,
    },
  ];
  it.each(rows)("$name", ({ artifactType, originFiltered, want, filtered }) => {
    const body = bytes(INDEX);
    const answer = referrersFromIndex(body, parseIndex(body)!, artifactType, originFiltered);
    const doc = JSON.parse(answer.body.toString());
    expect(doc.manifests.map((d: { digest: string }) => d.digest)).toEqual(want.map(D));
    expect(doc.annotations).toEqual(INDEX.annotations);
    expect(answer.filtered).toBe(filtered);
    if (!filtered || originFiltered) expect(answer.body).toBe(body);
  });
});

describe("parseIndex", () => {
  it("accepts an index with or without its mediaType field", () => {
    expect(parseIndex(bytes(INDEX))).toBeDefined();
    expect(parseIndex(bytes({ schemaVersion: 2, manifests: [] }))).toBeDefined();
  });
  const rejects = [
    {
      name: "an image manifest",
      doc: { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] },
    },
    { name: "manifests not a list", doc: { schemaVersion: 2, manifests: {} } },
    { name: "a descriptor that is not an object", doc: { schemaVersion: 2, manifests: ["x"] } },
    { name: "a list", doc: [] },
    { name: "null", doc: null },
  ];
  it.each(rejects)("rejects $name", ({ doc }) => expect(parseIndex(bytes(doc))).toBeUndefined());
  it("rejects bytes that are not JSON", () => expect(parseIndex(Buffer.from("{"))).toBeUndefined());
});

describe("the rest", () => {
  it("names the fallback tag <alg>-<ref>", () =>
    expect(referrersTag(D("a"))).toBe(`sha256-${"a".repeat(64)}`));
  it("an empty index is an image index with no manifests", () => {
    expect(JSON.parse(emptyReferrersIndex().body.toString())).toEqual({
      schemaVersion: 2,
      mediaType: INDEX_MEDIA_TYPE,
      manifests: [],
    });
    expect(emptyReferrersIndex(SBOM).filtered).toBe(true);
  });
  const headers = [
    { name: "absent", header: undefined, want: false },
    { name: "artifactType", header: "artifactType", want: true },
    { name: "in a list", header: "annotations, artifactType", want: true },
    { name: "another filter", header: "annotations", want: false },
  ];
  it.each(headers)("OCI-Filters-Applied $name", ({ header, want }) =>
    expect(originFilteredByArtifactType(header)).toBe(want),
  );
});
