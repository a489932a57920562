import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parsePromText } from "../testenv/prom-text";
import { removeDir, tempDir } from "../testenv/processes";
import { kubeStateMetricsText, publishExposition } from "./foreign-series";

describe("kubeStateMetricsText", () => {
  const text = kubeStateMetricsText([
    { namespace: "peerpull-system", daemonset: "peerpull-agent", desired: 4, ready: 3 },
  ]);

  it("has kube-state-metrics' names and labels", () => {
    expect(parsePromText(text)).toEqual([
      {
        name: "kube_daemonset_status_desired_number_scheduled",
        labels: { namespace: "peerpull-system", daemonset: "peerpull-agent" },
        value: 4,
      },
      {
        name: "kube_daemonset_status_number_ready",
        labels: { namespace: "peerpull-system", daemonset: "peerpull-agent" },
        value: 3,
      },
    ]);
  });

  it("is a valid exposition (promtool check metrics)", () => {
    // Exits non-zero on a parse error or a lint problem.
    expect(() => execFileSync("promtool", ["check", "metrics"], { input: text })).not.toThrow();
  });
});

describe("publishExposition", () => {
  it("replaces <dir>/<name>/metrics whole and leaves no temp file", async () => {
    const dir = await tempDir("exposition");
    try {
      await publishExposition(dir, "module", "a 1\n");
      await publishExposition(dir, "module", "a 2\n");
      expect(await readFile(join(dir, "module", "metrics"), "utf8")).toBe("a 2\n");
      expect(await readdir(join(dir, "module"))).toEqual(["metrics"]);
    } finally {
      await removeDir(dir);
    }
  });
});
