/**
 * `npm run bench -- webhook [iterations]`: in-process latency of one Pod CREATE through the
 * pod-mirror capability with warm caches, the way Pepr's mutate processor runs it (wrap the
 * AdmissionRequest, run the Mutate binding, diff to a JSON patch, base64). The Kubernetes API is the
 * in-memory twin. Baseline: the same pod not opted in (the cheapest path through the same code).
 */
import { V1Pod } from "@kubernetes/client-node";
import { compare } from "fast-json-patch";
import { PeprMutateRequest } from "pepr";
import { Registry } from "prom-client";
import { podMirrorCapability } from "../../capabilities/pod-mirror/capability";
import { promMutationMetrics } from "../../capabilities/pod-mirror/metrics";
import { accelerationConfig, basicAuth, dockerConfigSecret, pod } from "../../capabilities/testing/fixtures";
import { MemoryCluster } from "../../capabilities/testing/memory-cluster";
import { BenchResult } from "./result";

const DEFAULT_ITERATIONS = 5000;
const WARMUP = 2000;
const MAX_SECONDS_PER_CASE = 30;
const TARGET_P99_MS_20 = 2;
const LABEL = "k8s.aliyun.com/image-accelerate-mode";

type Admit = (pod: V1Pod) => Promise<string>;

export async function webhookBench(args: string[]): Promise<BenchResult[]> {
  const requested = Number(args[0]);
  const iterations =
    Number.isInteger(requested) && requested > 0 ? Math.min(requested, 100_000) : DEFAULT_ITERATIONS;
  const admit = buildAdmit();
  const results: BenchResult[] = [];
  for (const containers of [1, 20])
    for (const optedIn of [true, false])
      for (let i = 0; i < WARMUP; i++) await admit(benchPod(containers, optedIn));
  for (const containers of [1, 20]) {
    const optedIn = await measure(admit, benchPod(containers, true), iterations);
    const baseline = await measure(admit, benchPod(containers, false), iterations);
    for (const [metric, value, base] of [
      ["p50", optedIn.p50, baseline.p50],
      ["p99", optedIn.p99, baseline.p99],
    ] as const) {
      const gated = containers === 20 && metric === "p99";
      results.push({
        scenario: "webhook",
        metric: `mutation_latency_${metric}_${containers}_container${containers === 1 ? "" : "s"}`,
        unit: "ms",
        value: round(value),
        baseline: round(base),
        ratio: round(value / base),
        ...(gated ? { target: `value < ${TARGET_P99_MS_20} ms`, pass: value < TARGET_P99_MS_20 } : {}),
        details: {
          iterations: optedIn.samples,
          warmup: WARMUP,
          patchBytes: optedIn.patchBytes,
          baseline: "same pod, not opted in",
        },
      });
    }
  }
  return results;
}

function buildAdmit(): Admit {
  const cluster = new MemoryCluster();
  cluster.recordCalls = false;
  cluster.setNamespace("bench");
  cluster.setConfig(
    accelerationConfig([
      { host: "registry.example.com" },
      { host: "docker.io", anonymous: true },
      { host: "quay.io" },
    ]),
  );
  cluster.putSecret(
    dockerConfigSecret("bench", "regcred", {
      "https://registry.example.com": basicAuth("robot", "secret"),
      "quay.io": basicAuth("q", "r"),
    }),
  );
  const capability = podMirrorCapability({
    cluster,
    metrics: promMutationMetrics(new Registry()),
    log: { info: () => undefined, warn: () => undefined },
    ignoredNamespaces: new Set(["kube-system", "pepr-system"]),
  });
  const binding = capability.bindings.find(b => b.isMutate && b.mutateCallback);
  if (!binding?.mutateCallback) throw new Error("pod-mirror has no Mutate binding");
  const mutate = binding.mutateCallback;
  let uid = 0;
  return async (p: V1Pod) => {
    const request = admissionRequest(p, `bench-${uid++}`);
    const wrapped = new PeprMutateRequest<V1Pod>(request);
    await mutate(wrapped);
    const patch = compare(request.object as object, wrapped.Raw);
    return patch.length === 0 ? "" : Buffer.from(JSON.stringify(patch)).toString("base64");
  };
}

function admissionRequest(p: V1Pod, uid: string): ConstructorParameters<typeof PeprMutateRequest<V1Pod>>[0] {
  return {
    uid,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    name: p.metadata?.name ?? "",
    namespace: "bench",
    operation: "CREATE",
    userInfo: { username: "bench" },
    object: p,
  } as unknown as ConstructorParameters<typeof PeprMutateRequest<V1Pod>>[0];
}

/** 20 containers: 10 private (covered by the pull secret), 5 Docker Hub (anonymous), 5 not accelerated. */
function benchPod(containers: number, optedIn: boolean): V1Pod {
  const images = Array.from({ length: containers }, (_, i) => {
    if (i % 4 === 0 || i % 4 === 1) return `registry.example.com/team/service-${i}:v1.${i}`;
    if (i % 4 === 2) return `nginx:1.${i}`;
    return `gcr.io/other/tool-${i}@sha256:${"c".repeat(64)}`;
  });
  return pod({ labels: optedIn ? { [LABEL]: "p2p" } : {}, containers: images, pullSecrets: ["regcred"] });
}

async function measure(
  admit: Admit,
  p: V1Pod,
  iterations: number,
): Promise<{ p50: number; p99: number; samples: number; patchBytes: number }> {
  const patchBytes = (await admit(p)).length;
  (globalThis as { gc?: () => void }).gc?.();
  const samples: number[] = [];
  const deadline = process.hrtime.bigint() + BigInt(MAX_SECONDS_PER_CASE) * 1_000_000_000n;
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await admit(p);
    const end = process.hrtime.bigint();
    samples.push(Number(end - start) / 1e6);
    if (end > deadline) break;
  }
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), samples: samples.length, patchBytes };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
