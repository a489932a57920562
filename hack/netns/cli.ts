/**
 * The netns harness from a shell (hack/netns/cluster.sh):
 *   up N [--shape-mbit M] [--run-id ID]   create the network, print its layout as JSON, and exit
 *                                         (namespaces stay; processes are the caller's business)
 *   down RUN_ID                           remove pp-RUN_ID-* namespaces and what runs inside
 *   list                                  print the pp-* namespaces
 */
import { parseArgs } from "node:util";
import { createNetwork, destroyRun, listRunNamespaces } from "./netns";

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { "shape-mbit": { type: "string" }, "run-id": { type: "string" } },
    allowPositionals: true,
  });
  if (command === "up") {
    const nodes = Number(positionals[0] ?? "3");
    const mbit = values["shape-mbit"] === undefined ? undefined : Number(values["shape-mbit"]);
    if (mbit !== undefined && !(mbit > 0)) throw new Error("--shape-mbit: expected a positive number");
    const shape = mbit ? { rateBits: mbit * 1e6 } : undefined;
    const network = await createNetwork({
      nodes,
      runId: values["run-id"],
      nodeShape: shape,
      originShape: shape,
    });
    const { runId, subnet, bridgeNs, registry, tracker } = network;
    process.stdout.write(
      JSON.stringify({ runId, subnet, bridgeNs, registry, tracker, nodes: network.nodes }, null, 2) + "\n",
    );
  } else if (command === "down") {
    if (!positionals[0]) throw new Error("down: RUN_ID required");
    const removed = await destroyRun(positionals[0]);
    process.stdout.write(`removed ${removed.length} namespace(s): ${removed.join(" ")}\n`);
  } else if (command === "list") {
    process.stdout.write((await listRunNamespaces()).join("\n") + "\n");
  } else {
    throw new Error("usage: cluster.sh up N [--shape-mbit M] [--run-id ID] | down RUN_ID | list");
  }
}

main(process.argv.slice(2)).catch(err => {
  process.stderr.write(`cluster.sh: ${(err as Error).message}\n`);
  process.exit(2);
});
