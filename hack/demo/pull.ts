/**
 * The demo's client: pulls an image the way a runtime does (the manifest by tag, then every blob
 * at once) with curl run on a node, counting and hashing each blob's bytes as they stream in, so
 * the display shows live progress and a blob with wrong bytes fails the pull.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import type { NodeProgress } from "./model";

/** Runs a command on a node (inside its network namespace, or on this machine). */
export type NodeCommand = (cmd: string, args: string[]) => [string, string[]];

/** Where a node pulls from: the registry itself, or its agent in rewrite naming. */
export interface PullSource {
  /** e.g. http://10.231.7.2:5000/v2/demo/app or http://127.0.0.1:65001/v2/registry.demo/demo/app */
  repoUrl: string;
  tag: string;
}

const ACCEPT =
  "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/** Every curl the demo started and has not seen exit (stopped on Ctrl-C). */
const running = new Set<ChildProcess>();

export function stopAllPulls(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Pulls the image, adding each byte received to `progress.received`; resolves when all are verified. */
export async function pullImage(on: NodeCommand, source: PullSource, progress: NodeProgress): Promise<void> {
  const manifest = JSON.parse(
    (await curl(on, `${source.repoUrl}/manifests/${source.tag}`, ["-H", `Accept: ${ACCEPT}`])).toString(
      "utf8",
    ),
  ) as { config: { digest: string }; layers: { digest: string }[] };
  const digests = [manifest.config.digest, ...manifest.layers.map(l => l.digest)];
  await Promise.all(
    digests.map(digest =>
      curl(on, `${source.repoUrl}/blobs/${digest}`, [], {
        digest,
        onData: bytes => {
          progress.received += bytes;
        },
      }),
    ),
  );
}

interface Streamed {
  /** Check the body's sha256 against this and discard it, instead of returning it. */
  digest: string;
  onData(bytes: number): void;
}

function curl(on: NodeCommand, url: string, extra: string[], stream?: Streamed): Promise<Buffer> {
  const [cmd, args] = on("curl", ["-sS", "--fail", "--max-time", "900", ...extra, url]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const hash = stream && createHash("sha256");
  const chunks: Buffer[] = [];
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    if (!stream) return void chunks.push(chunk);
    hash!.update(chunk);
    stream.onData(chunk.length);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      running.delete(child);
      if (code !== 0) return reject(new Error(`curl ${url}: ${stderr.trim() || `exit ${code ?? signal}`}`));
      const got = hash && `sha256:${hash.digest("hex")}`;
      if (stream && got !== stream.digest) return reject(new Error(`${url}: got bytes of ${got}`));
      resolve(Buffer.concat(chunks));
    });
  });
}
