/**
 * One page of a tags list, as the distribution spec defines it: up to `n` tags that sort lexically
 * after `last`, and a next link when more remain. When the origin paginated (it sent a next link)
 * its page is passed on verbatim; when it ignored `n`/`last` (distribution 2.8 does), the agent
 * cuts the page from the whole list itself, so clients paginate the same way against any registry.
 */
export interface TagList {
  name: string;
  tags: string[];
}

export interface TagsPage {
  body: Buffer;
  /** Query of the next page (`n`, `last`), if there is one. */
  next?: URLSearchParams;
}

export class InvalidTagListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidTagListError";
  }
}

export function parseTagList(body: Buffer): TagList {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    throw new InvalidTagListError("origin tag list is not JSON");
  }
  const { name, tags } = (doc ?? {}) as { name?: unknown; tags?: unknown };
  if (typeof name !== "string") throw new InvalidTagListError("origin tag list has no name");
  if (tags === null || tags === undefined) return { name, tags: [] };
  if (!Array.isArray(tags) || !tags.every(tag => typeof tag === "string"))
    throw new InvalidTagListError("origin tag list's tags are not a list of strings");
  return { name, tags };
}

export function tagsPage(
  originBody: Buffer,
  request: { n?: number; last?: string },
  originNext: URLSearchParams | undefined,
): TagsPage {
  const list = parseTagList(originBody);
  if (originNext) return { body: originBody, next: originNext };
  if (request.n === undefined && request.last === undefined) return { body: originBody };
  const last = request.last;
  const after = [...list.tags].sort(lexically).filter(tag => last === undefined || tag > last);
  const n = request.n ?? after.length;
  const page = after.slice(0, n);
  const body = Buffer.from(JSON.stringify({ name: list.name, tags: page }));
  if (n === 0 || after.length <= n) return { body };
  return { body, next: new URLSearchParams({ n: String(n), last: page[page.length - 1] }) };
}

/** Byte order, as registries sort (tags are ASCII, so UTF-16 code unit order is the same). */
function lexically(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
