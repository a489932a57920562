import { execFileSync } from "node:child_process";
import { ChartInput, colorFor, escapeXml, niceStep, renderChart, thin } from "./chart";

/** Tags open and close in order, attributes are quoted, text holds no raw < or &. */
function wellFormed(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let consumed = 0;
  for (const m of xml.matchAll(token)) {
    if (m.index !== consumed) problems.push(`unparsed at ${consumed}: ${xml.slice(consumed, consumed + 40)}`);
    consumed = m.index! + m[0].length;
    const [, closing, name, , selfClosing, text] = m;
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) problems.push(`raw & in ${text}`);
    } else if (closing) {
      if (stack.pop() !== name) problems.push(`unexpected </${name}>`);
    } else if (!selfClosing) stack.push(name);
  }
  if (consumed !== xml.length) problems.push("trailing garbage");
  if (stack.length) problems.push(`unclosed ${stack.join(",")}`);
  return problems;
}

const ramp = (endMs: number, total: number): Array<[number, number]> =>
  Array.from({ length: 11 }, (_, i) => [(endMs * i) / 10, (total * i) / 10]);

function input(nodes = 3): ChartInput {
  const lines = (endMs: number) =>
    Array.from({ length: nodes }, (_, i) => ({
      name: `node ${i + 1}`,
      total: 1000,
      samples: ramp(endMs + i * 100, 1000),
    }));
  return {
    title: "6 nodes <pull> a 50 MiB image & more",
    subtitle: "50 Mbit/s links",
    panels: [
      { title: "straight from the registry", note: "last node 50.2 s", lines: lines(50_000) },
      { title: "through peerpull", note: "last node 12.2 s", lines: lines(12_000) },
    ],
  };
}

const polylines = (svg: string) =>
  [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map(m =>
    m[1].split(" ").map(p => p.split(",").map(Number) as [number, number]),
  );

describe("renderChart", () => {
  const svg = renderChart(input());

  it("is well-formed SVG with a viewBox", () => {
    expect(wellFormed(svg)).toEqual([]);
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="960" height="\d+" viewBox="0 0 960 \d+"/,
    );
  });

  it("parses with a real XML parser (python3's minidom) as an svg document", () => {
    const script =
      "import sys, xml.dom.minidom as m; print(m.parseString(sys.stdin.read()).documentElement.tagName)";
    expect(execFileSync("python3", ["-c", script], { input: svg }).toString().trim()).toBe("svg");
  });

  it("draws one line per node per phase, every point inside the picture", () => {
    const lines = polylines(svg);
    expect(lines).toHaveLength(6);
    const height = Number(/height="(\d+)"/.exec(svg)![1]);
    for (const points of lines)
      for (const [x, y] of points) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(960);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(height);
      }
  });

  it("puts both phases on one time scale: the direct lines reach further right within their panel", () => {
    const [d1, , , p1] = polylines(svg);
    const widthUsed = (points: Array<[number, number]>) => points[points.length - 1][0] - points[0][0];
    expect(widthUsed(d1) / widthUsed(p1)).toBeCloseTo(50_000 / 12_000, 1);
  });

  it("lines start at 0% and end at 100% (a higher % is higher on the page)", () => {
    for (const points of polylines(svg)) {
      const [, yStart] = points[0];
      const [, yEnd] = points[points.length - 1];
      expect(yStart - yEnd).toBeCloseTo(250, 0);
    }
  });

  it("uses the same colour for a node in both panels, and lists it in the legend", () => {
    const strokes = [...svg.matchAll(/<polyline[^>]*stroke="([^"]+)"/g)].map(m => m[1]);
    expect(strokes.slice(0, 3)).toEqual(strokes.slice(3));
    expect(svg).toContain(
      `stroke="${colorFor(0, 3)}" stroke-width="3"/><text x="84" y="398" fill="#333">node 1</text>`,
    );
  });

  it("escapes text", () => {
    expect(svg).toContain("6 nodes &lt;pull&gt; a 50 MiB image &amp; more");
    expect(svg).not.toContain("<pull>");
  });

  it("stays well-formed for many nodes (legend rows) and no samples at all", () => {
    expect(wellFormed(renderChart(input(40)))).toEqual([]);
    expect(wellFormed(renderChart({ title: "t", subtitle: "s", panels: [] }))).toEqual([]);
  });
});

describe("niceStep", () => {
  const rows: { name: string; max: number; step: number }[] = [
    { name: "a minute", max: 60, step: 10 },
    { name: "12 seconds", max: 12, step: 2 },
    { name: "under a second", max: 0.7, step: 0.2 },
    { name: "five minutes", max: 300, step: 50 },
    { name: "nothing", max: 0, step: 1 },
  ];
  it.each(rows)("$name", ({ max, step }) => expect(niceStep(max)).toBeCloseTo(step));
});

describe("thin", () => {
  it("keeps short series as they are", () => expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]));
  it("keeps the first and the last of long series, and at most max", () => {
    const out = thin(
      Array.from({ length: 1000 }, (_, i) => i),
      10,
    );
    expect(out).toHaveLength(10);
    expect(out[0]).toBe(0);
    expect(out[9]).toBe(999);
    expect([...out].sort((a, b) => a - b)).toEqual(out);
  });
});

it("escapeXml escapes the five XML characters", () =>
  expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"));

it("colours: a fixed palette up to 10 nodes, evenly spread hues beyond", () => {
  expect(new Set(Array.from({ length: 10 }, (_, i) => colorFor(i, 10))).size).toBe(10);
  expect(colorFor(3, 20)).toBe("hsl(54, 65%, 45%)");
});
