import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { removeDir, run, tempDir } from "../testenv/processes";
import { prometheusConfig } from "./prometheus";

const JOBS = [
  { job: "peerpull-agent", targets: [{ address: "10.0.0.10:65002", labels: { node: "n1" } }] },
  {
    job: "kube-state-metrics",
    metricsPath: "/ksm/metrics",
    honorLabels: true,
    targets: [{ address: "127.0.0.1:9101" }],
  },
];

describe("prometheusConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir("prom-config");
  });
  afterAll(() => removeDir(dir));

  it("writes a config promtool accepts, with the jobs, labels and rule files asked for", async () => {
    const rules = join(dir, "rules.yaml");
    await writeFile(rules, "groups: []\n");
    const text = prometheusConfig({ scrapeIntervalS: 1, jobs: JOBS, ruleFiles: [rules] });
    const path = join(dir, "prometheus.yml");
    await writeFile(path, text);
    const { stdout } = await run("promtool", ["check", "config", path]);
    expect(stdout).toMatch(/SUCCESS/);
    const config = parse(text);
    expect(config.global.scrape_interval).toBe("1s");
    expect(config.scrape_configs.map((c: { job_name: string }) => c.job_name)).toEqual([
      "peerpull-agent",
      "kube-state-metrics",
    ]);
    expect(config.scrape_configs[0].static_configs).toEqual([
      { targets: ["10.0.0.10:65002"], labels: { node: "n1" } },
    ]);
    expect(config.scrape_configs[1]).toEqual(
      expect.objectContaining({ honor_labels: true, metrics_path: "/ksm/metrics" }),
    );
  });

  it.each([
    { name: "a sub-second interval", options: { scrapeIntervalS: 0.5, jobs: JOBS }, error: /at least 1/ },
    {
      name: "a duplicate job",
      options: { scrapeIntervalS: 1, jobs: [JOBS[0], JOBS[0]] },
      error: /duplicate scrape job/,
    },
  ])("rejects $name", ({ options, error }) => {
    expect(() => prometheusConfig(options)).toThrow(error);
  });
});
