/** A small reader of the Prometheus text exposition format, for asserting metric values in tests. */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePromText(text: string): PromSample[] {
  return text
    .split("\n")
    .filter(line => line && !line.startsWith("#"))
    .flatMap(line => {
      const match = SAMPLE.exec(line);
      if (!match) return [];
      const labels: Record<string, string> = {};
      for (const label of (match[2] ?? "").matchAll(LABEL)) labels[label[1]] = label[2];
      return [{ name: match[1], labels, value: Number(match[3]) }];
    });
}
