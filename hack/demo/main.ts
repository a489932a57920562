/**
 * `npm run demo`: the embedded default on this machine. A real docker-registry with a demo image,
 * N agents (one per simulated node, each with its own cache and ports), a herd of pulls through
 * them with skopeo, then a second round from cache; prints where every node's bytes came from.
 * A real tracker process (`build/peerpull-tracker.js`) runs the swarm: agents share pieces, so the
 * registry serves each layer about once however many nodes pull.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startAgent, AgentProcess, AGENT_BIN } from "../testenv/agent";
import { buildImage, clearSkopeoBlobInfoCache, pushImage } from "../testenv/oci-image";
import { freePort, removeDir, spawnLogged, Teardown, tempDir, waitForHttp } from "../testenv/processes";
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

    const swarm = await startTracker(teardown);
    log(`tracker ${swarm.url}`);
    const agents: AgentProcess[] = [];
    for (let i = 0; i < nodes; i++) {
      const agent = await startAgent({
        upstreams: [`${UPSTREAM}=${registry.url}`],
        args: ["--log-level", "info", "--tracker", swarm.url, "--peer-token-file", swarm.tokenFile],
      });
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
      log(
        `${round}: ${nodes} pulls in ${Date.now() - started} ms; registry served ${(served / MiB).toFixed(1)} MiB of blobs`,
      );
    }
    for (const [i, agent] of agents.entries()) {
      const names = [
        "peerpull_origin_bytes_total",
        "peerpull_peer_download_bytes_total",
        "peerpull_peer_upload_bytes_total",
      ];
      const [origin, peer, upload] = await Promise.all(names.map(name => agent.metric(name)));
      log(
        `node ${i + 1}: fetched ${mib(origin)} from the registry, ${mib(peer)} from peers; sent ${mib(upload)} to peers`,
      );
    }
    log(
      `pull it yourself: skopeo copy --src-tls-verify=false docker://${agents[0].host}/${UPSTREAM}/demo/app:1 dir:/tmp/x`,
    );
  } finally {
    await teardown.run();
  }
}

async function startTracker(teardown: Teardown): Promise<{ url: string; tokenFile: string }> {
  const dir = await tempDir("demo-tracker");
  teardown.add(() => removeDir(dir));
  const tokenFile = join(dir, "peer-token");
  await writeFile(tokenFile, randomBytes(24).toString("hex") + "\n", { mode: 0o600 });
  const port = await freePort();
  const bin = join(AGENT_BIN, "..", "peerpull-tracker.js");
  const args = [bin, "--listen", `127.0.0.1:${port}`, "--peer-token-file", tokenFile, "--log-level", "warn"];
  const tracker = await spawnLogged(process.execPath, args, { logPath: join(dir, "tracker.log") });
  teardown.add(() => tracker.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, { process: tracker, statuses: [200] });
  return { url, tokenFile };
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
