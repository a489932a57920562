import { V1Pod } from "@kubernetes/client-node";
import fc from "fast-check";
import { Registry } from "prom-client";
import { formatImageReference, tryParseImageReference } from "../../protocol/image-reference";
import { accelerationConfig, basicAuth, dockerConfigSecret } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { handlePod, PodMirrorDeps } from "./handle-pod";
import { promMutationMetrics } from "./metrics";
import { CONFIG_ANNOTATION, MODE_ANNOTATION } from "./mutate-pod";

const ACCELERATED = new Set(["registry.example.com", "docker.io", "quay.io"]);
const LABEL = "k8s.aliyun.com/image-accelerate-mode";
const FIELDS = ["containers", "initContainers", "ephemeralContainers"] as const;

function deps(): PodMirrorDeps {
  const cluster = new MemoryCluster();
  cluster.setNamespace("ns", {});
  cluster.setConfig(
    accelerationConfig([
      { host: "registry.example.com" },
      { host: "index.docker.io", anonymous: true },
      { host: "quay.io" },
    ]),
  );
  cluster.putSecret(
    dockerConfigSecret("ns", "regcred", { "https://registry.example.com/v1/": basicAuth("a", "b") }),
  );
  cluster.putSecret(dockerConfigSecret("ns", "quay", { "quay.io/org": basicAuth("c", "d") }));
  return {
    cluster,
    metrics: promMutationMetrics(new Registry()),
    log: new RecordingLog(),
    ignoredNamespaces: new Set(),
  };
}

const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:[._-]{1,2}[a-z0-9]{1,6})?$/);
const validImage = fc
  .record({
    host: fc.constantFrom(
      "",
      "registry.example.com/",
      "docker.io/",
      "index.docker.io/",
      "quay.io/",
      "gcr.io/",
      "localhost:5000/",
      "127.0.0.1:65001/docker.io/",
    ),
    path: fc.array(component, { minLength: 1, maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/), { nil: undefined }),
    digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  })
  .map(
    ({ host, path, tag, digest }) =>
      `${host}${path.join("/")}${tag ? ":" + tag : ""}${digest ? "@sha256:" + digest : ""}`,
  );
const image = fc.oneof(
  { weight: 6, arbitrary: validImage },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "UPPER/case",
      "a//b",
      "nginx@sha512:" + "a".repeat(128),
      "r.io/" + "a".repeat(260),
    ),
  },
);
const containers = fc.array(fc.record({ image: fc.option(image, { nil: undefined }) }), { maxLength: 4 });

const podArb = fc
  .record({
    optIn: fc.constantFrom("p2p", "P2P", "no", undefined),
    containers,
    initContainers: fc.option(containers, { nil: undefined }),
    ephemeralContainers: fc.option(containers, { nil: undefined }),
    pullSecrets: fc.option(fc.subarray(["regcred", "quay", "missing", "acr-credential-regcred-p2p"]), {
      nil: undefined,
    }),
  })
  .map(shape => {
    let n = 0;
    const spec: Record<string, unknown> = {};
    for (const field of FIELDS) {
      const list = field === "containers" ? shape.containers : shape[field];
      if (list)
        spec[field] = list.map(c => ({
          name: `k${n++}`,
          ...(c.image === undefined ? {} : { image: c.image }),
        }));
    }
    if (shape.pullSecrets) spec.imagePullSecrets = shape.pullSecrets.map(name => ({ name }));
    return {
      metadata: { name: "p", ...(shape.optIn ? { labels: { [LABEL]: shape.optIn } } : {}) },
      spec,
    } as unknown as V1Pod;
  });

function images(pod: V1Pod): (string | undefined)[] {
  return FIELDS.flatMap(f => (pod.spec?.[f] ?? []).map(c => c.image));
}

describe("pod mutation properties", () => {
  it("never throws, only rewrites accelerated images to the endpoint, and is idempotent", async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(podArb, async pod => {
        const d = deps();
        const before = structuredClone(pod);
        const outcome = await handlePod({ pod, namespace: "ns", dryRun: false }, d);
        expect(pod).toEqual(before);
        expect(["mutated", "skipped"]).toContain(outcome.result);
        seen[outcome.reason] = (seen[outcome.reason] ?? 0) + 1;
        const out = outcome.pod ?? pod;
        const [was, now] = [images(pod), images(out)];
        expect(now).toHaveLength(was.length);
        now.forEach((img, i) => {
          if (img === was[i]) return;
          const ref = tryParseImageReference(was[i]!);
          expect(ref && ACCELERATED.has(ref.registry)).toBe(true);
          expect(img).toBe(`127.0.0.1:65001/${formatImageReference(ref!)}`);
        });

        const second = await handlePod({ pod: out, namespace: "ns", dryRun: false }, d);
        expect(second.pod).toBeUndefined();
        const stripped = structuredClone(out);
        delete stripped.metadata?.annotations?.[CONFIG_ANNOTATION];
        delete stripped.metadata?.annotations?.[MODE_ANNOTATION];
        const third = await handlePod({ pod: stripped, namespace: "ns", dryRun: false }, d);
        expect(images(third.pod ?? stripped)).toEqual(now);
      }),
      { numRuns: 400 },
    );
    // the generator must reach the interesting paths, not only the early skips
    expect(seen.rewritten).toBeGreaterThan(20);
    expect(seen["no-accelerated-images"]).toBeGreaterThan(5);
  });

  it("never throws when the cluster fails at any step", async () => {
    const methods = ["readSecret", "applySecret", "accelerationConfigs", "namespaceLabels"] as const;
    await fc.assert(
      fc.asyncProperty(podArb, fc.constantFrom(...methods), async (pod, method) => {
        const d = deps();
        (d.cluster as MemoryCluster).failOn(method, new Error("boom"));
        const outcome = await handlePod({ pod, namespace: "ns", dryRun: false }, d);
        if (outcome.result === "error") expect(outcome.pod).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on pods of any shape", async () => {
    const odd = fc.record({
      metadata: fc.option(
        fc.record({ labels: fc.constant({ [LABEL]: "p2p" }), annotations: fc.anything() }),
        { nil: undefined },
      ),
      spec: fc.oneof(
        fc.anything(),
        fc.record({
          containers: fc.anything(),
          initContainers: fc.array(fc.anything()),
          imagePullSecrets: fc.anything(),
        }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(odd, async p => {
        const outcome = await handlePod(
          { pod: p as unknown as V1Pod, namespace: "ns", dryRun: false },
          deps(),
        );
        expect(["mutated", "skipped", "error"]).toContain(outcome.result);
      }),
      { numRuns: 300 },
    );
  });
});
