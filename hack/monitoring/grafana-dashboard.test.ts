import {
  interpolate,
  intervalsFor,
  parseDashboard,
  parseLabelValuesQuery,
  variableReferences,
} from "./grafana-dashboard";

const INTERVALS = { intervalS: 1, rateIntervalS: 4, rangeS: 60 };

describe("interpolate", () => {
  it.each([
    { name: "rate interval", expr: "rate(x[$__rate_interval])", values: {}, want: "rate(x[4s])" },
    { name: "interval and range", expr: "x[$__interval] y[$__range]", values: {}, want: "x[1s] y[60s]" },
    { name: "All as allValue", expr: 'x{node=~"$node"}', values: { node: ".*" }, want: 'x{node=~".*"}' },
    {
      name: "one value, escaped",
      expr: 'x{node=~"$node"}',
      values: { node: ["a.b"] },
      want: 'x{node=~"a\\\\.b"}', // the PromQL string holds a\\.b, the regex a\.b
    },
    {
      name: "several values",
      expr: 'x{node=~"${node}"}',
      values: { node: ["a", "b"] },
      want: 'x{node=~"(a|b)"}',
    },
    { name: "bracket form", expr: 'x{node=~"[[node]]"}', values: { node: ["a"] }, want: 'x{node=~"a"}' },
    {
      name: "format suffix",
      expr: 'x{node=~"${node:regex}"}',
      values: { node: ["a"] },
      want: 'x{node=~"a"}',
    },
  ] as { name: string; expr: string; values: Record<string, string | string[]>; want: string }[])(
    "$name",
    ({ expr, values, want }) => {
      expect(interpolate(expr, values, INTERVALS)).toBe(want);
    },
  );

  it("throws on an undefined variable", () => {
    expect(() => interpolate('x{node=~"$nodes"}', { node: ".*" }, INTERVALS)).toThrow(
      /undefined variable \$nodes/,
    );
  });
});

describe("intervalsFor", () => {
  it.each([
    {
      name: "short range: the scrape interval is the floor",
      window: { fromS: 0, toS: 60, maxDataPoints: 1000, scrapeIntervalS: 1 },
      want: { intervalS: 1, rateIntervalS: 4, rangeS: 60 },
    },
    {
      name: "long range: range over points",
      window: { fromS: 0, toS: 86400, maxDataPoints: 1000, scrapeIntervalS: 30 },
      want: { intervalS: 87, rateIntervalS: 120, rangeS: 86400 },
    },
    {
      name: "a long interval outgrows 4 scrapes",
      window: { fromS: 0, toS: 7 * 86400, maxDataPoints: 1000, scrapeIntervalS: 30 },
      want: { intervalS: 605, rateIntervalS: 635, rangeS: 604800 },
    },
  ])("$name", ({ window, want }) => {
    expect(intervalsFor(window)).toEqual(want);
  });

  it.each([
    { name: "empty window", window: { fromS: 5, toS: 5, maxDataPoints: 100, scrapeIntervalS: 1 } },
    { name: "no scrape interval", window: { fromS: 0, toS: 5, maxDataPoints: 100, scrapeIntervalS: 0 } },
  ])("rejects $name", ({ window }) => {
    expect(() => intervalsFor(window)).toThrow(/time window/);
  });
});

describe("variableReferences", () => {
  it("finds every form once", () => {
    expect(
      variableReferences('x{a="$a", b="${b}", c="${c:csv}", d="[[d]]", a2="$a"}[$__rate_interval]'),
    ).toEqual(["a", "b", "c", "d", "__rate_interval"]);
  });
});

describe("parseLabelValuesQuery", () => {
  it("reads the selector and the label", () => {
    expect(parseLabelValuesQuery('label_values(up{job="a"}, node)')).toEqual({
      match: 'up{job="a"}',
      label: "node",
    });
  });
  it.each([
    { name: "a metric query", query: "up" },
    { name: "no label", query: "label_values(up)" },
  ])("rejects $name", ({ query }) => {
    expect(() => parseLabelValuesQuery(query)).toThrow(/label_values/);
  });
});

describe("parseDashboard", () => {
  it.each([
    { name: "no panels", text: '{"uid":"a","title":"b","templating":{"list":[]}}', error: /panels/ },
    { name: "no templating", text: '{"uid":"a","title":"b","panels":[]}', error: /templating/ },
    { name: "no uid", text: '{"title":"b","panels":[],"templating":{"list":[]}}', error: /uid/ },
  ])("rejects $name", ({ text, error }) => {
    expect(() => parseDashboard(text)).toThrow(error);
  });
});
