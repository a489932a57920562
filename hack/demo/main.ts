/**
 * `npm run demo`: the embedded default on this machine. A real docker-registry with a demo image,
 * N agents (one per simulated node, each with its own cache and ports), a herd of pulls through
 * them with skopeo, then a second round from cache; prints where every node's bytes came from.
 * With a tracker built (`build/peerpull-tracker.js`), agents join it and share pieces.
 */
import { startAgent, AgentProcess } from "../testenv/agent";
import { buildImage, clearSkopeoBlobInfoCache, pushImage } from "../testenv/oci-image";
import { removeDir, Teardown, tempDir } from "../testenv/processes";
import { startRegistry } from "../testenv/registry";
import { skopeoCopyToDir } from "../testenv/skopeo";

const UPSTREAM = "registry.demo";
const MiB = 1024 * 1024;

async function main(argv: string[]): Promise<void> {
  const nodes = Number(argv[0] ?? 3);
  const teardown = new Teardown();
  process.once("SIGINT", () => void teardown.run().finally(() => process.exit(130)));
  try {
    const registry = await startRegistry();
    teardown.add(() => registry.stop());
    const layout = await buildImage({ layers: [24 * MiB, 8 * MiB], seed: "demo" });
    teardown.add(() => layout.remove());
    const pushed = await pushImage(layout, registry, "demo/app", "1");
    log(`registry ${registry.url} serves demo/app:1 (${pushed.digest})`);

    const agents: AgentProcess[] = [];
    for (let i = 0; i < nodes; i++) {
      const agent = await startAgent({ upstreams: [`${UPSTREAM}=${registry.url}`], args: ["--log-level", "info"] });
      teardown.add(() => agent.stop());
      agents.push(agent);
      log(`node ${i + 1}: agent on ${agent.host}, metrics ${agent.peerUrl}/metrics`);
    }
    for (const round of ["herd (all nodes at once)", "again (from each node's cache)"]) {
      await clearSkopeoBlobInfoCache();
      const mark = await registry.mark();
      const started = Date.now();
      await Promise.all(agents.map(agent => pullThrough(agent, teardown)));
      const served = [...(await registry.blobGets(mark)).values()].reduce((sum, b) => sum + b.bytes, 0);
      log(`${round}: ${nodes} pulls in ${Date.now() - started} ms; registry served ${(served / MiB).toFixed(1)} MiB of blobs`);
    }
    for (const [i, agent] of agents.entries()) {
      const [origin, peer, cache] = await Promise.all(
        ["origin", "peer", "cache"].map(source => agent.metric("peerpull_blob_bytes_total", { source })),
      );
      log(`node ${i + 1}: origin ${mib(origin)}, peer ${mib(peer)}, cache ${mib(cache)}`);
    }
    log(`pull it yourself: skopeo copy --src-tls-verify=false docker://${agents[0].host}/${UPSTREAM}/demo/app:1 dir:/tmp/x`);
  } finally {
    await teardown.run();
  }
}

async function pullThrough(agent: AgentProcess, teardown: Teardown): Promise<void> {
  const dir = await tempDir("demo-pull");
  teardown.add(() => removeDir(dir));
  await skopeoCopyToDir(`${agent.host}/${UPSTREAM}/demo/app:1`, dir);
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const log = (line: string) => process.stdout.write(line + "\n");

main(process.argv.slice(2)).catch(err => {
  process.stderr.write(`demo: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
