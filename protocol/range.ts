/** HTTP Range header for a single byte range (RFC 9110 section 14), and Content-Range maths. */
import { OciError } from "./oci-error";

/** Inclusive byte span. */
export interface ByteSpan {
  start: number;
  end: number;
}

const SINGLE_RANGE = /^bytes=(\d{0,15})-(\d{0,15})$/i;
const RANGE_UNIT = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=/;

/**
 * Resolves a Range header against a blob size. Returns undefined for "no range" (serve it all).
 * A unit other than `bytes` is ignored, as RFC 9110 (14.2) requires. Multiple ranges are not
 * supported and are answered with the full body, which RFC 9110 allows.
 */
export function resolveRange(header: string | undefined, size: number): ByteSpan | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  const unit = RANGE_UNIT.exec(text)?.[1];
  if (unit !== undefined && unit.toLowerCase() !== "bytes") return undefined;
  if (/^bytes=.*,/i.test(text)) return undefined;
  const match = SINGLE_RANGE.exec(text);
  if (!match || (match[1] === "" && match[2] === "")) throw rangeError(`malformed Range header`, size);
  const [, first, last] = match;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) throw rangeError("empty suffix range", size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) throw rangeError("range end before start", size);
  if (start >= size) throw rangeError(`range starts beyond the blob size ${size}`, size);
  return { start, end };
}

export function contentRange(span: ByteSpan, size: number): string {
  return `bytes ${span.start}-${span.end}/${size}`;
}

export function spanLength(span: ByteSpan): number {
  return span.end - span.start + 1;
}

function rangeError(message: string, size: number): OciError {
  return new OciError("RANGE_INVALID", message, { contentRange: `bytes */${size}` });
}
