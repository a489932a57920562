/**
 * Sizes, rates and durations as operators write them ("512M", "10G", "24h", "90s"), shared by the
 * agent config, the tracker config and the CRD. K/M/G/T are binary multiples (512M = 512 MiB);
 * an optional trailing "i", "B" or "iB" is accepted. Plain numbers are bytes or milliseconds.
 */

const BYTE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:iB|i|B)?$/i;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseByteSize(text: string): number {
  const match = SIZE.exec(text.trim());
  if (!match)
    throw new Error(
      `invalid size ${JSON.stringify(text)}: use a number with an optional K, M, G or T suffix`,
    );
  const bytes = Math.floor(Number(match[1]) * BYTE_UNITS[match[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes)) throw new Error(`size ${JSON.stringify(text)} is too large`);
  return bytes;
}

/** Bytes per second; "512M" and "512M/s" both mean 512 MiB/s. */
export function parseByteRate(text: string): number {
  return parseByteSize(text.trim().replace(/\/s$/i, ""));
}

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!DURATION.test(trimmed))
    throw new Error(`invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 30s, 5m, 24h, 1h30m`);
  let ms = 0;
  for (const [, value, unit] of trimmed.matchAll(DURATION_PART)) ms += Number(value) * DURATION_UNITS[unit];
  return Math.round(ms);
}
