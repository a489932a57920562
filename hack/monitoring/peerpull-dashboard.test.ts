/**
 * The Grafana dashboard manifests/monitoring/grafana/peerpull-dashboard.json, checked for structure
 * without a Grafana: every panel has a query on the datasource variable, every variable a query uses
 * exists, every query parses (promtool check rules over recording rules built from the interpolated
 * queries), panels do not overlap, and every agent and tracker metric is on some panel.
 * That the queries return sane data from real agents is e2e/monitoring-netns.test.ts.
 */
import { readFileSync } from "node:fs";
import { removeDir, tempDir } from "../testenv/processes";
import { createAgentMetrics } from "../../agent/src/metrics";
import { createTrackerMetrics } from "../../tracker/src/metrics";
import {
  BUILTIN_VARIABLES,
  dataPanels,
  GrafanaDashboard,
  interpolate,
  intervalsFor,
  panelQueries,
  parseDashboard,
  parseLabelValuesQuery,
  rowPanels,
  variableQuery,
  variableReferences,
} from "./grafana-dashboard";
import type { RuleFile } from "./prometheus-rule";
import { checkRules } from "./promtool";
import { DASHBOARD } from "./monitoring-files";

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** Series other components export, which the panels need. */
const FOREIGN_METRICS = [
  "kube_daemonset_status_number_ready",
  "kube_daemonset_status_desired_number_scheduled",
  "pepr_peerpull_mutations_total",
];

async function ownMetricNames(): Promise<string[]> {
  const agent = await createAgentMetrics().registry.getMetricsAsJSON();
  const tracker = await createTrackerMetrics(() => ({
    swarms: 0,
    peers: 0,
    leases: 0,
    stateBytes: 0,
  })).registry.getMetricsAsJSON();
  return [...agent, ...tracker].map(m => m.name).filter(name => !name.startsWith("peerpull_agent_"));
}

function allExprs(dashboard: GrafanaDashboard): string {
  return panelQueries(dashboard)
    .map(q => q.target.expr)
    .join("\n");
}

describe("Grafana dashboard peerpull-dashboard.json", () => {
  const dashboard = parseDashboard(readFileSync(DASHBOARD, "utf8"));
  const variables = new Map(dashboard.templating.list.map(v => [v.name, v]));

  it("has a datasource variable for Prometheus and a multi-value node variable with All", () => {
    expect(variables.get("datasource")).toEqual(
      expect.objectContaining({ type: "datasource", query: "prometheus" }),
    );
    const node = variables.get("node")!;
    expect(node).toEqual(
      expect.objectContaining({
        type: "query",
        includeAll: true,
        multi: true,
        allValue: ".*",
        datasource: DATASOURCE,
      }),
    );
    expect(parseLabelValuesQuery(variableQuery(node))).toEqual({
      match: "peerpull_blob_bytes_total",
      label: "node",
    });
  });

  it("gives every data panel a title, the datasource variable and at least one query", () => {
    const panels = dataPanels(dashboard);
    expect(panels.length).toBeGreaterThanOrEqual(20);
    for (const panel of panels) {
      const targets = panel.targets ?? [];
      expect({ title: panel.title, datasource: panel.datasource, hasTargets: targets.length > 0 }).toEqual({
        title: expect.stringMatching(/\S/),
        datasource: DATASOURCE,
        hasTargets: true,
      });
      expect(new Set(targets.map(t => t.refId)).size).toBe(targets.length);
      for (const target of targets) {
        expect([panel.title, target.expr.trim().length > 0]).toEqual([panel.title, true]);
        expect([panel.title, target.datasource ?? DATASOURCE]).toEqual([panel.title, DATASOURCE]);
      }
    }
  });

  it("has unique panel ids and panels that fit the 24-column grid without overlapping", () => {
    const all = [...rowPanels(dashboard), ...dataPanels(dashboard)];
    expect(new Set(all.map(p => p.id)).size).toBe(all.length);
    const cells = new Map<string, string>();
    for (const panel of all) {
      const g = panel.gridPos!;
      expect([panel.title, g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0]).toEqual([panel.title, true]);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          const key = `${x},${y}`;
          expect([panel.title, cells.get(key)]).toEqual([panel.title, undefined]);
          cells.set(key, panel.title);
        }
    }
  });

  it("uses only variables it defines or Grafana's built-ins", () => {
    const known = new Set<string>([...BUILTIN_VARIABLES, ...variables.keys()]);
    const texts = [
      ...panelQueries(dashboard).map(q => q.target.expr),
      ...dashboard.templating.list.map(variableQuery),
      ...dataPanels(dashboard).map(p => p.datasource?.uid ?? ""),
    ];
    for (const text of texts)
      for (const name of variableReferences(text)) expect([name, known.has(name)]).toEqual([name, true]);
  });

  it("puts every agent and tracker metric, and the module's and kube-state-metrics' series, on a panel", async () => {
    const exprs = allExprs(dashboard);
    const missing = [...(await ownMetricNames()), ...FOREIGN_METRICS].filter(name => !exprs.includes(name));
    expect(missing).toEqual([]);
  });

  describe("every query parses (promtool check rules on recording rules made of them)", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await tempDir("dashboard");
    });
    afterAll(() => removeDir(dir));

    it.each([
      { name: "node = All", node: ".*" as string | string[] },
      { name: "two nodes, one with regex characters", node: ["node-1.example", "node-2"] },
    ])("$name", async ({ node }) => {
      const intervals = intervalsFor({ fromS: 0, toS: 3600, maxDataPoints: 1000, scrapeIntervalS: 30 });
      const rules: RuleFile = {
        groups: [
          {
            name: "dashboard",
            rules: panelQueries(dashboard).map((q, i) => ({
              record: `dashboard:query_${i}`,
              expr: interpolate(q.target.expr, { node, datasource: "prometheus" }, intervals),
            })),
          },
        ],
      };
      const result = await checkRules(dir, rules, "dashboard-queries.yaml");
      if (!result.ok) throw new Error(result.output);
      expect(result.output).toContain(`SUCCESS: ${panelQueries(dashboard).length} rules found`);
    });

    it("and promtool refuses a query that does not parse (the check can fail)", async () => {
      const rules: RuleFile = {
        groups: [{ name: "bad", rules: [{ record: "bad:query", expr: "sum(rate(x[4s])" }] }],
      };
      expect((await checkRules(dir, rules, "bad.yaml")).ok).toBe(false);
    });
  });
});
