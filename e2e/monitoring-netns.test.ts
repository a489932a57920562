/**
 * The dashboard and the alert rules against a real Prometheus scraping real agents and a real
 * tracker while 4 network-namespace nodes pull one image at once (hack/netns; uploads tbf-shaped).
 * Prometheus (Debian package) runs in the bridge namespace, listening on that namespace's loopback,
 * scrapes every second and evaluates the PrometheusRule's groups. Every panel query of the dashboard
 * is then run the way Grafana runs it (variables interpolated, range or instant) and must return
 * data with sane values.
 *
 * Not real here: kube-state-metrics and the Pepr module's admission pods. Their series come from
 * files served by python's http.server: the module's text is what Pepr's /metrics serves, produced
 * by the module's own metric code (pod-mirror/metrics.ts mirroring into Pepr's metricsCollector);
 * the kube-state-metrics text has its exact names and labels, with the ready count probed from the
 * agents' /readyz. Needs root and iproute2; reports itself skipped otherwise.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { metricsCollector } from "pepr";
import { Registry } from "prom-client";
import { promMutationMetrics } from "../capabilities/pod-mirror/metrics";
import { PEER_PORT, startSwarmCluster, SwarmCluster, TRACKER_PORT } from "../hack/netns/cluster";
import { httpIn, logIn } from "../hack/netns/netns";
import { buildImage, OciLayout } from "../hack/testenv/oci-image";
import { waitFor } from "../hack/testenv/processes";
import {
  kubeStateMetricsText,
  publishExposition,
  staticServerCommand,
} from "../hack/monitoring/foreign-series";
import {
  GrafanaDashboard,
  interpolate,
  intervalsFor,
  panelQueries,
  parseDashboard,
  parseLabelValuesQuery,
  variableQuery,
} from "../hack/monitoring/grafana-dashboard";
import { DASHBOARD, JOBS, PROMETHEUS_RULE } from "../hack/monitoring/monitoring-files";
import { ruleFileOf, ruleFileText } from "../hack/monitoring/prometheus-rule";
import { prometheusConfig, PrometheusInNs, Series, startPrometheusIn } from "../hack/monitoring/prometheus";
import { explained } from "./support/explained";
import { describeWith, NETNS_NEEDS } from "./support/prerequisites";

const NEEDS = { ...NETNS_NEEDS, commands: [...(NETNS_NEEDS.commands ?? []), ["prometheus", "--version"]] };
jest.setTimeout(240_000);

const NODES = 4;
const SCRAPE_S = 1;
const EXPORTER_PORT = 9101;
/** Kubernetes-style node names with regex characters, so Grafana's escaping is exercised for real. */
const nodeName = (i: number) => `node-${i + 1}.cluster.test`;

interface PanelResult {
  title: string;
  refId: string;
  legend: string;
  series: Series[];
}

describeWith(NEEDS, "dashboard and alerts on a real Prometheus during a 4-node herd", () => {
  let cluster: SwarmCluster;
  let image: OciLayout;
  let prometheus: PrometheusInNs;
  let dashboard: GrafanaDashboard;
  let results: PanelResult[];
  let layerBytes: number;
  let fromS: number;
  let toS: number;
  const mutations = promMutationMetrics(new Registry(), true);
  let foreignDir: string;

  const publishModule = async () =>
    publishExposition(foreignDir, "module", await metricsCollector.getMetrics());
  const publishKubeStateMetrics = async () => {
    let ready = 0;
    for (const agent of cluster.agents)
      if ((await httpIn(cluster.network, agent.node.ns, `${agent.peerUrl}/readyz`)).status === 200) ready++;
    await publishExposition(
      foreignDir,
      "kube-state-metrics",
      kubeStateMetricsText([
        { namespace: "peerpull-system", daemonset: "peerpull-agent", desired: NODES, ready },
      ]),
    );
  };
  const scalar = async (expr: string) => Number((await prometheus.query(expr))[0]?.values[0][1] ?? NaN);
  const waitForValue = (what: string, expr: string, ok: (v: number) => boolean) =>
    waitFor(what, async () => (ok(await scalar(expr)) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });

  beforeAll(async () => {
    dashboard = parseDashboard(await readFile(DASHBOARD, "utf8"));
    cluster = await startSwarmCluster({
      nodes: NODES,
      shapeMbit: 100,
      agentArgs: ["--stall-timeout", "10s"],
    });
    image = await buildImage({ layers: [12 * 1024 * 1024, 12 * 1024 * 1024] });
    layerBytes = image.layers.reduce((sum, layer) => sum + layer.size, 0);
    await cluster.pushImage(image, "team/app", "v1");

    // The series no process here can produce.
    foreignDir = join(cluster.dir, "foreign");
    mutations.record("mutated", "rewritten");
    mutations.record("skipped", "not-opted-in");
    mutations.record("error", "secret-apply-failed");
    await publishModule();
    await publishKubeStateMetrics();
    const [cmd, args] = staticServerCommand(foreignDir, "127.0.0.1", EXPORTER_PORT);
    await cluster.network.spawnIn(cluster.network.bridgeNs, cmd, args, {
      logPath: logIn(cluster.dir, "exporter"),
    });

    const rulesPath = join(cluster.dir, "peerpull-rules.yaml");
    await writeFile(rulesPath, ruleFileText(ruleFileOf(await readFile(PROMETHEUS_RULE, "utf8"))));
    const exporter = `127.0.0.1:${EXPORTER_PORT}`;
    const config = prometheusConfig({
      scrapeIntervalS: SCRAPE_S,
      ruleFiles: [rulesPath],
      jobs: [
        {
          // Labels as the PodMonitor peerpull-agent gives them (job from app.kubernetes.io/name, node relabelled).
          job: JOBS.agent,
          targets: cluster.agents.map((agent, i) => ({
            address: `${agent.node.ip}:${PEER_PORT}`,
            labels: {
              namespace: "peerpull-system",
              pod: `peerpull-agent-${i}`,
              container: "agent",
              endpoint: "peer",
              node: nodeName(i),
            },
          })),
        },
        {
          job: JOBS.tracker,
          targets: [
            {
              address: `${cluster.network.tracker.ip}:${TRACKER_PORT}`,
              labels: {
                namespace: "peerpull-system",
                pod: "peerpull-tracker-0",
                container: "tracker",
                endpoint: "api",
              },
            },
          ],
        },
        {
          job: JOBS.module,
          metricsPath: "/module/metrics",
          targets: [
            {
              address: exporter,
              labels: {
                namespace: "pepr-system",
                service: "pepr-peerpull",
                pod: "pepr-peerpull-0",
                container: "server",
              },
            },
          ],
        },
        {
          job: "kube-state-metrics",
          metricsPath: "/kube-state-metrics/metrics",
          honorLabels: true,
          targets: [{ address: exporter }],
        },
      ],
    });
    prometheus = await startPrometheusIn({
      network: cluster.network,
      ns: cluster.network.bridgeNs,
      dir: cluster.dir,
      config,
    });
    // Every target up and a few samples of each before anything moves, so rates start from zeros.
    const targets = NODES + 3;
    await waitForValue(
      "every target scraped 3 times",
      "count(count_over_time(up[1m]) >= 3 and up == 1)",
      v => v === targets,
    );

    // Whole seconds, so the range query's steps land on both ends (Grafana aligns them to the step).
    fromS = Math.floor(Date.now() / 1000) - 3;
    await Promise.all(cluster.agents.map(pullAll)); // the herd: every node at once
    // A second pull on one node: cache hits.
    await pullAll(cluster.agents[0]);
    mutations.record("mutated", "rewritten");
    mutations.record("error", "secret-apply-failed");
    await publishModule();

    // Prometheus holds the final values of everything the panels read.
    await waitForValue(
      "delivered bytes scraped",
      "sum(peerpull_blob_bytes_total)",
      v => v === (NODES + 1) * layerBytes,
    );
    await waitForValue("cache sizes scraped", "sum(peerpull_cache_bytes)", v => v === NODES * layerBytes);
    await waitForValue(
      "tracker swarm bytes scraped",
      "sum(peerpull_tracker_swarm_blob_bytes_total)",
      v => v === layerBytes,
    );
    await waitForValue(
      "module errors scraped",
      'sum(pepr_peerpull_mutations_total{result="error"})',
      v => v === 2,
    );
    // Someone looking a few scrapes later: a counter born at the end of the pull (requests are
    // counted when they finish) needs two samples inside the last rate window.
    toS = Math.ceil(Date.now() / 1000) + 4 * SCRAPE_S;
    await waitForValue("a scrape after the end", `min(timestamp(up))`, v => v >= toS);
    results = await evaluatePanels({ node: ".*" });
  });

  afterAll(async () => {
    await image?.remove();
    await cluster?.stop();
  });

  /** One node pulls every layer, each checked against its digest. */
  async function pullAll(agent: SwarmCluster["agents"][number]): Promise<void> {
    for (const layer of image.layers) {
      const url = `${agent.url}/v2/${cluster.registry.host}/team/app/blobs/${layer.digest}`;
      const { stdout } = await cluster.network.exec(
        agent.node.ns,
        "bash",
        ["-c", `set -o pipefail; curl -sSf --max-time 120 '${url}' | sha256sum`],
        { timeoutMs: 130_000 },
      );
      expect("sha256:" + stdout.split(" ")[0]).toBe(layer.digest);
    }
  }

  /** Every panel target, interpolated and evaluated as Grafana would for the window [fromS, toS]. */
  async function evaluatePanels(values: Record<string, string | string[]>): Promise<PanelResult[]> {
    const intervals = intervalsFor({ fromS, toS, maxDataPoints: 1000, scrapeIntervalS: SCRAPE_S });
    const out: PanelResult[] = [];
    for (const { panel, target } of panelQueries(dashboard)) {
      const expr = interpolate(target.expr, { ...values, datasource: "prometheus" }, intervals);
      const series = target.instant
        ? await prometheus.query(expr, toS)
        : await prometheus.queryRange(expr, fromS, toS, intervals.intervalS);
      out.push({ title: panel.title, refId: target.refId, legend: target.legendFormat ?? "", series });
    }
    return out;
  }

  function panel(title: string, refId = "A"): PanelResult {
    const found = results.find(r => r.title === title && r.refId === refId);
    if (!found) throw new Error(`no panel ${title} ${refId}`);
    return found;
  }
  const numbers = (r: PanelResult) => r.series.flatMap(s => s.values.map(([, v]) => Number(v)));
  const last = (r: PanelResult, labels: Record<string, string> = {}) => {
    const s = r.series.find(x => Object.entries(labels).every(([k, v]) => x.metric[k] === v));
    return s ? Number(s.values[s.values.length - 1][1]) : NaN;
  };
  const max = (r: PanelResult, labels: Record<string, string> = {}) =>
    Math.max(
      ...r.series
        .filter(x => Object.entries(labels).every(([k, v]) => x.metric[k] === v))
        .flatMap(s => s.values.map(([, v]) => Number(v))),
    );

  it("the node variable resolves to the scraped nodes (label_values, as Grafana asks)", async () => {
    const variable = dashboard.templating.list.find(v => v.name === "node")!;
    const { match, label } = parseLabelValuesQuery(variableQuery(variable));
    expect((await prometheus.labelValues(label, match)).sort()).toEqual(
      cluster.agents.map((_, i) => nodeName(i)),
    );
  });

  it("every panel query returns data, every value finite and not negative", () => {
    expect(results.length).toBe(panelQueries(dashboard).length);
    for (const r of results) {
      expect({ panel: `${r.title} ${r.refId}`, hasData: r.series.length > 0 }).toEqual({
        panel: `${r.title} ${r.refId}`,
        hasData: true,
      });
      const bad = numbers(r).filter(v => !Number.isFinite(v) || v < 0);
      expect({ panel: `${r.title} ${r.refId}`, bad }).toEqual({ panel: `${r.title} ${r.refId}`, bad: [] });
    }
  });

  it("offload: above 0.5 over the herd and at its peak, never above 1", async () => {
    const overRange = last(panel("Origin offload (time range)"));
    const ratio = panel("Origin offload ratio");
    const measured = {
      windowS: toS - fromS,
      offloadOverRange: overRange,
      offloadPeak: Math.max(...numbers(ratio)),
      originBytesPerSwarmBlob: last(panel("Origin bytes per swarm blob (time range)")),
      queries: results.length,
    };
    await explained(measured, () => {
      expect(overRange).toBeGreaterThan(0.5);
      expect(overRange).toBeLessThanOrEqual(1);
      expect(Math.max(...numbers(ratio))).toBeGreaterThan(0.5);
      expect(Math.max(...numbers(ratio))).toBeLessThanOrEqual(1);
    });
  });

  it("origin bytes per swarm blob: the registry served each blob about once", () => {
    const perBlob = last(panel("Origin bytes per swarm blob (time range)"));
    expect(perBlob).toBeGreaterThan(0.9);
    expect(perBlob).toBeLessThan(1.3);
  });

  it("bytes by source: origin, peer and cache all moved", () => {
    const bySource = panel("Bytes served to clients by source");
    for (const source of ["origin", "peer", "cache"])
      expect([source, max(bySource, { source }) > 0]).toEqual([source, true]);
    expect(max(panel("Peer traffic by node", "B"))).toBeGreaterThan(0);
    expect(max(panel("Origin bytes by node"))).toBeGreaterThan(0);
  });

  it("cache: every node holds both layers", () => {
    const size = panel("Cache size by node");
    const blobs = panel("Cached blobs by node");
    for (let i = 0; i < NODES; i++) {
      expect([nodeName(i), last(size, { node: nodeName(i) })]).toEqual([nodeName(i), layerBytes]);
      expect([nodeName(i), last(blobs, { node: nodeName(i) })]).toEqual([nodeName(i), image.layers.length]);
    }
  });

  it("fill durations: swarm fills observed, quantiles between 0 and the test's bound", () => {
    const quantiles = panel("Blob fill duration quantiles");
    const swarm = quantiles.series
      .filter(s => s.metric.source === "swarm")
      .flatMap(s => s.values.map(([, v]) => Number(v)));
    expect(swarm.length).toBeGreaterThan(0);
    for (const v of swarm) expect(v > 0 && v <= 120).toBe(true);
  });

  it("tracker: two swarms of four members each at the peak", () => {
    expect(max(panel("Tracker: swarms, members, origin leases", "A"))).toBe(image.layers.length);
    expect(max(panel("Tracker: swarms, members, origin leases", "B"))).toBe(NODES * image.layers.length);
    expect(max(panel("Tracker lease events"), { event: "granted" })).toBeGreaterThan(0);
  });

  it("authorizations, requests, agents ready, targets and mutations read what happened", () => {
    expect(Math.max(...numbers(panel("Authorization decisions")))).toBeGreaterThan(0);
    expect(max(panel("Registry API requests"), { code: "200" })).toBeGreaterThan(0);
    expect([last(panel("Agents ready / desired", "A")), last(panel("Agents ready / desired", "B"))]).toEqual([
      NODES,
      NODES,
    ]);
    expect([last(panel("Targets scraped", "A")), last(panel("Targets scraped", "B"))]).toEqual([NODES, 1]);
    expect(
      max(panel("Mutations by result"), { result: "error", reason: "secret-apply-failed" }),
    ).toBeGreaterThan(0);
  });

  it("one node selected: per-node panels show exactly that node", async () => {
    const only = nodeName(1);
    const one = await evaluatePanels({ node: [only] });
    const size = one.find(r => r.title === "Cache size by node")!;
    expect(size.series.map(s => s.metric.node)).toEqual([only]);
    expect(Number(size.series[0].values.at(-1)![1])).toBe(layerBytes);
    const ratio = one.find(r => r.title === "Origin offload (time range)")!;
    expect(ratio.series.length).toBe(1);
  });

  it("the alert rules evaluate without errors; only the webhook-errors alert is active", async () => {
    const rules = await prometheus.rules();
    expect(rules.length).toBeGreaterThanOrEqual(7);
    for (const rule of rules)
      expect({ rule: rule.name, health: rule.health, error: rule.lastError ?? "" }).toEqual({
        rule: rule.name,
        health: "ok",
        error: "",
      });
    // The fed module exposition counts two errors; nothing else is wrong. (A swarm fallback under a
    // loaded CPU would rightly make PeerpullFallbackRateHigh pending; its promtool test covers it.)
    const active = rules
      .filter(r => r.type === "alerting" && r.state !== "inactive" && r.name !== "PeerpullFallbackRateHigh")
      .map(r => r.name);
    expect(active).toEqual(["PeerpullWebhookErrors"]);
  });
});
