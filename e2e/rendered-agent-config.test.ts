/**
 * The agent's own loader (agent/src/config/load.ts) reads the agent.yaml the reconciler renders, in
 * rewrite and mirror mode. Here rather than beside the generators: the Pepr module may not import
 * agent code, not even in its tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentArgs } from "../agent/src/config/load";
import type { P2PAccelerationConfigSpec } from "../capabilities/crd/p2p-acceleration-config";
import { desiredObjects } from "../capabilities/reconciler/desired-objects";

const modes: { name: string; spec: P2PAccelerationConfigSpec; hostsDir?: string }[] = [
  { name: "rewrite", spec: {} },
  { name: "mirror", spec: { mode: "mirror" }, hostsDir: "/etc/containerd/certs.d" },
  {
    name: "mirror, caching only",
    spec: { mode: "mirror", p2p: { downloadPattern: "source" } },
    hostsDir: "/etc/containerd/certs.d",
  },
];

it.each(modes)("the agent's own loader accepts the rendered config file: $name", ({ spec, hostsDir }) => {
  const desired = desiredObjects({
    spec: { registries: [{ host: "registry.example.com" }], ...spec },
    registries: [{ host: "registry.example.com", origin: "https://registry.example.com", source: "static" }],
    peerToken: "t".repeat(43),
    namespace: "peerpull-system",
  });
  if (!desired.ok) throw new Error(desired.problems.join("; "));
  const configMap = desired.objects.find(o => o.kind === "ConfigMap") as unknown as {
    data: Record<string, string>;
  };
  const dir = mkdtempSync(join(tmpdir(), "agent-yaml-"));
  try {
    const file = join(dir, "agent.yaml");
    writeFileSync(file, configMap.data["agent.yaml"]);
    const parsed = parseAgentArgs(["--config", file]);
    if (parsed.action !== "run") throw new Error(parsed.action);
    const checked = hostsDir ? { hostsDir, containerdConfig: "/etc/containerd/config.toml" } : {};
    expect(parsed.config.mirror).toEqual({ ...checked, cleanup: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("the agent's own parser accepts the mirror-cleanup init container's command line", () => {
  const desired = desiredObjects({
    spec: { registries: [{ host: "registry.example.com" }] },
    registries: [{ host: "registry.example.com", origin: "https://registry.example.com", source: "static" }],
    peerToken: "t".repeat(43),
    namespace: "peerpull-system",
    mirrorCleanup: true,
  });
  if (!desired.ok) throw new Error(desired.problems.join("; "));
  const daemonSet = desired.objects.find(o => o.kind === "DaemonSet") as unknown as {
    spec: { template: { spec: { initContainers: { args: string[] }[] } } };
  };
  const parsed = parseAgentArgs(daemonSet.spec.template.spec.initContainers[0].args);
  expect(parsed).toMatchObject({
    action: "run",
    config: { mirror: { hostsDir: "/etc/containerd/certs.d", cleanup: true } },
  });
});
