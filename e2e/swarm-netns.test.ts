/**
 * The herd over a real network: 4 node namespaces behind a bridge (hack/netns), node and origin
 * uploads shaped with tbf, the registry and the tracker in their own namespaces, one built agent per
 * node with --tracker. Every node pulls the same 2-layer image at once. Needs root and iproute2;
 * reports itself skipped by name otherwise.
 */
import { startSwarmCluster, SwarmCluster } from "../hack/netns/cluster";
import { httpIn } from "../hack/netns/netns";
import { buildImage, OciLayout } from "../hack/testenv/oci-image";
import { parsePromText } from "../hack/testenv/prom-text";
import { explained } from "./support/explained";
import { describeWith, NETNS_NEEDS } from "./support/prerequisites";

jest.setTimeout(180_000);

describeWith(NETNS_NEEDS, "swarm herd in 4 node namespaces (200 Mbit/s uploads)", () => {
  let cluster: SwarmCluster;
  let image: OciLayout;

  beforeAll(async () => {
    cluster = await startSwarmCluster({
      nodes: 4,
      shapeMbit: 200,
      agentArgs: ["--stall-timeout", "10s"],
    });
    image = await buildImage({ layers: [9 * 1024 * 1024, 10 * 1024 * 1024] });
    await cluster.pushImage(image, "team/app", "v1");
  });
  afterAll(async () => {
    await image?.remove();
    await cluster?.stop();
  });

  it("every node gets the exact bytes, the origin serves each layer once, the rest moves between peers", async () => {
    const mark = await cluster.registry.mark();
    const started = Date.now();
    const pulls = cluster.agents.map(agent =>
      Promise.all(
        image.layers.map(async layer => {
          const url = `${agent.url}/v2/${cluster.registry.host}/team/app/blobs/${layer.digest}`;
          const { stdout } = await cluster.network.exec(
            agent.node.ns,
            "bash",
            ["-c", `set -o pipefail; curl -sSf --max-time 120 '${url}' | sha256sum`],
            { timeoutMs: 130_000 },
          );
          return "sha256:" + stdout.split(" ")[0];
        }),
      ),
    );
    const got = await Promise.all(pulls);
    const seconds = (Date.now() - started) / 1000;

    for (const digests of got) expect(digests).toEqual(image.layers.map(l => l.digest));
    const gets = await cluster.registry.blobGets(mark);
    const served = image.layers.map(l => gets.get(l.digest)?.bytes ?? 0);
    const peerBytes: number[] = [];
    for (const agent of cluster.agents) {
      const metrics = await httpIn(cluster.network, agent.node.ns, `${agent.peerUrl}/metrics`, {
        keepBody: true,
      });
      const samples = parsePromText(metrics.body);
      peerBytes.push(
        samples.filter(s => s.name === "peerpull_peer_download_bytes_total").reduce((a, s) => a + s.value, 0),
      );
    }
    const layerBytes = image.layers.reduce((a, l) => a + l.size, 0);
    await explained({ layerBytes, served, peerBytes, seconds }, () => {
      image.layers.forEach((layer, i) => {
        expect(served[i]).toBeGreaterThanOrEqual(layer.size);
        expect(served[i]).toBeLessThanOrEqual(layer.size * 1.05);
      });
      expect(peerBytes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3 * layerBytes);
    });
  });
});
