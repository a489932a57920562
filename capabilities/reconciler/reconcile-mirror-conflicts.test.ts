/**
 * Mirror mode's conflicts in the config's status, through reconcile passes on the in-memory cluster.
 * The probe here is a recording stand-in (what pods it was given, a set answer); the real probe is
 * tested against HTTP servers (agent-conflicts.test.ts) and a real agent (e2e/agent-mirror-mode).
 */
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { accelerationConfig } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import type { ConflictsReading } from "./agent-conflicts";
import type { AgentPod } from "./cluster";
import { reconcilePass, ReconcilerDeps } from "./reconcile";

const NS = "peerpull-system";

function setup(spec: P2PAccelerationConfigSpec) {
  const cluster = new MemoryCluster();
  cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }], spec));
  const asked: AgentPod[][] = [];
  let answer: ConflictsReading = { agents: 0, answered: 0, failed: [], conflicts: [] };
  const deps: ReconcilerDeps = {
    cluster,
    log: new RecordingLog(),
    newToken: () => "t".repeat(32),
    agentConflicts: {
      read: async pods => {
        asked.push([...pods]);
        return answer;
      },
    },
  };
  const status = () => cluster.configs.get("default")!.status!;
  const condition = (type: string) => status().conditions?.find(c => c.type === type);
  return { cluster, deps, asked, status, condition, answer: (a: ConflictsReading) => (answer = a) };
}

describe("mirror mode conflicts in the status", () => {
  it("asks the agent pods, lists the conflicts and sets MirrorConflicts; Ready is not affected", async () => {
    const t = setup({ mode: "mirror" });
    await reconcilePass(t.deps);
    t.cluster.putAgentPod(NS, "n1", "10.0.0.1");
    t.cluster.putAgentPod(NS, "n2", "10.0.0.2", false);
    t.cluster.setDaemonSetStatus(NS, "peerpull-agent", 2, 2);
    t.answer({
      agents: 1,
      answered: 1,
      failed: [],
      conflicts: [
        { node: "n1", registry: "registry.example.com", reason: "hosts.toml not written by peerpull-agent" },
      ],
    });
    await reconcilePass(t.deps);
    expect(t.asked.at(-1)).toEqual([
      { name: "peerpull-agent-n1", node: "n1", ip: "10.0.0.1", ready: true },
      { name: "peerpull-agent-n2", node: "n2", ip: "10.0.0.2", ready: false },
    ]);
    expect(t.status().mirrorConflicts).toEqual([
      { node: "n1", registry: "registry.example.com", reason: "hosts.toml not written by peerpull-agent" },
    ]);
    expect(t.condition("MirrorConflicts")).toMatchObject({ status: "True", reason: "ForeignHostsFiles" });
    expect(t.condition("Ready")).toMatchObject({ status: "True" });

    t.answer({ agents: 1, answered: 1, failed: [], conflicts: [] }); // the operator removed the file
    await reconcilePass(t.deps);
    expect(t.status().mirrorConflicts).toEqual([]);
    expect(t.condition("MirrorConflicts")).toMatchObject({ status: "False", reason: "NoConflicts" });
  });

  it("back in rewrite mode: no agent is asked, the list is emptied and the condition goes", async () => {
    const t = setup({ mode: "mirror" });
    t.answer({ agents: 1, answered: 1, failed: [], conflicts: [{ node: "n1", registry: "r", reason: "x" }] });
    await reconcilePass(t.deps);
    expect(t.status().mirrorConflicts).toHaveLength(1);
    const live = t.cluster.configs.get("default")!;
    t.cluster.setConfig({ ...live, spec: { ...live.spec, mode: "rewrite" } });
    const asked = t.asked.length;
    await reconcilePass(t.deps);
    expect(t.asked).toHaveLength(asked);
    expect(t.status().mirrorConflicts).toEqual([]);
    expect(t.condition("MirrorConflicts")).toBeUndefined();
  });

  it("rewrite mode never asks, and writes no mirrorConflicts field", async () => {
    const t = setup({});
    await reconcilePass(t.deps);
    expect(t.asked).toEqual([]);
    expect(t.status()).not.toHaveProperty("mirrorConflicts");
  });

  it("a config being deleted is not asked about (its agents are cleaning up)", async () => {
    const t = setup({ mode: "mirror" });
    await reconcilePass(t.deps);
    const asked = t.asked.length;
    t.cluster.deleteConfig("default");
    await reconcilePass(t.deps);
    expect(t.asked).toHaveLength(asked);
  });
});
