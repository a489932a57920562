import { InvalidTagListError, tagsPage } from "./tags-page";

const list = (tags: string[] | null) => Buffer.from(JSON.stringify({ name: "team/app", tags }));
const UNSORTED = ["b", "c", "e", "a", "d"];

describe("tagsPage", () => {
  const rows = [
    {
      name: "no n, no last: the origin's bytes",
      request: {},
      tags: UNSORTED,
      want: UNSORTED,
      next: undefined,
    },
    { name: "first page", request: { n: 2 }, tags: UNSORTED, want: ["a", "b"], next: { n: "2", last: "b" } },
    {
      name: "middle page",
      request: { n: 2, last: "b" },
      tags: UNSORTED,
      want: ["c", "d"],
      next: { n: "2", last: "d" },
    },
    {
      name: "last page, exactly full",
      request: { n: 1, last: "d" },
      tags: UNSORTED,
      want: ["e"],
      next: undefined,
    },
    {
      name: "last page, short",
      request: { n: 3, last: "c" },
      tags: UNSORTED,
      want: ["d", "e"],
      next: undefined,
    },
    { name: "last alone", request: { last: "c" }, tags: UNSORTED, want: ["d", "e"], next: undefined },
    { name: "last after every tag", request: { n: 2, last: "z" }, tags: UNSORTED, want: [], next: undefined },
    { name: "n=0", request: { n: 0 }, tags: UNSORTED, want: [], next: undefined },
    { name: "null tags", request: { n: 2 }, tags: null, want: [], next: undefined },
    {
      name: "byte order, as registries sort",
      request: { n: 10 },
      tags: ["b", "B", "a-1", "a_1", "a.1", "1"],
      want: ["1", "B", "a-1", "a.1", "a_1", "b"],
      next: undefined,
    },
  ];
  it.each(rows)("$name", ({ request, tags, want, next }) => {
    const page = tagsPage(list(tags), request, undefined);
    expect(JSON.parse(page.body.toString())).toEqual({ name: "team/app", tags: want });
    expect(page.next && Object.fromEntries(page.next)).toEqual(next);
  });

  it("passes a page the origin cut itself on verbatim, with its next query", () => {
    const body = Buffer.from('{"name":"team/app","tags":["x","y"]}\n');
    const next = new URLSearchParams({ n: "2", last: "y" });
    const page = tagsPage(body, { n: 2 }, next);
    expect(page.body).toBe(body);
    expect(page.next).toBe(next);
  });

  const invalid = [
    { name: "not JSON", body: "<html>" },
    { name: "no name", body: '{"tags":[]}' },
    { name: "tags not strings", body: '{"name":"a","tags":[1]}' },
    { name: "tags an object", body: '{"name":"a","tags":{}}' },
  ];
  it.each(invalid)("rejects an origin answer: $name", ({ body }) => {
    expect(() => tagsPage(Buffer.from(body), {}, undefined)).toThrow(InvalidTagListError);
  });
});
