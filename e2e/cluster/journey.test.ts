/**
 * The user's journey on a real cluster (k3d, kind or any other), following the README's install:
 * CRD and the built module YAML applied, a P2PAccelerationConfig, an opted-in namespace, a Deployment
 * of a private image; then the pod's image, annotations and pull secret are checked, and the agents'
 * metrics must show the bytes they served. Then uninstall. Reports itself skipped, by name, when no
 * cluster is reachable or its inputs are missing:
 *   PEERPULL_IMAGE         the peerpull image the nodes can pull (docker build . ; k3d image import)
 *   PEERPULL_E2E_IMAGE     a private image, e.g. registry.example.com/team/app:1
 *   PEERPULL_E2E_USER, PEERPULL_E2E_PASSWORD   credentials for its registry
 * and `npx pepr build` must have made dist/pepr-module-peerpull.yaml.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { describeWith } from "../support/prerequisites";

const ROOT = join(__dirname, "../..");
const MODULE_YAML = join(ROOT, "dist/pepr-module-peerpull.yaml");
const NS = "peerpull-e2e";

function kubectl(args: string[], input?: string): string {
  return execFileSync("kubectl", args, {
    input,
    encoding: "utf8",
    timeout: 600_000,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

function missing(): string[] {
  const why: string[] = [];
  try {
    kubectl(["version", "--request-timeout=5s"]);
  } catch {
    why.push("no cluster reachable (kubectl version failed)");
  }
  for (const name of ["PEERPULL_IMAGE", "PEERPULL_E2E_IMAGE", "PEERPULL_E2E_USER", "PEERPULL_E2E_PASSWORD"])
    if (!process.env[name]) why.push(`${name} unset`);
  if (!existsSync(MODULE_YAML)) why.push("dist/pepr-module-peerpull.yaml missing (npx pepr build)");
  return why;
}

const title = "cluster journey: install, config, opted-in Deployment of a private image, uninstall";
jest.setTimeout(900_000);

// The one suite CI skips (by name): it has no cluster.
const why = missing();
describeWith({ cluster: () => (why.length ? why.join("; ") : undefined) }, title, () => {
  const privateImage = process.env.PEERPULL_E2E_IMAGE ?? "";
  const registryHost = privateImage.split("/")[0];

  afterAll(() => {
    for (const args of [
      ["delete", "namespace", NS, "--ignore-not-found", "--wait=false"],
      ["delete", "p2pconfig", "default", "--ignore-not-found"],
    ])
      kubectl(args);
  });

  it("installs the CRD and the module", () => {
    kubectl(["apply", "-f", join(ROOT, "crds/")]);
    kubectl(["apply", "-f", MODULE_YAML]);
    for (const name of ["pepr-peerpull", "pepr-peerpull-watcher"])
      kubectl(["-n", "pepr-system", "rollout", "status", `deployment/${name}`, "--timeout=300s"]);
  });

  it("reconciles a config until the agents are ready", () => {
    const config = {
      apiVersion: "peerpull.io/v1alpha1",
      kind: "P2PAccelerationConfig",
      metadata: { name: "default" },
      spec: { registries: [{ host: registryHost }], agent: { image: process.env.PEERPULL_IMAGE } },
    };
    kubectl(["apply", "-f", "-"], stringify(config));
    kubectl(["wait", "p2pconfig/default", "--for=condition=Ready", "--timeout=600s"]);
    const status = JSON.parse(kubectl(["get", "p2pconfig", "default", "-o", "jsonpath={.status}"]));
    expect(status.agents.ready).toBeGreaterThan(0);
    expect(status.agents.ready).toBe(status.agents.desired);
  });

  it("rewrites an opted-in Deployment's private image, with a derived pull secret, and the agents serve it", () => {
    kubectl(["create", "namespace", NS]);
    kubectl(["label", "namespace", NS, "k8s.aliyun.com/image-accelerate-mode=p2p"]);
    kubectl([
      "-n",
      NS,
      "create",
      "secret",
      "docker-registry",
      "regcred",
      `--docker-server=${registryHost}`,
      `--docker-username=${process.env.PEERPULL_E2E_USER}`,
      `--docker-password=${process.env.PEERPULL_E2E_PASSWORD}`,
    ]);
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "app", namespace: NS },
      spec: {
        selector: { matchLabels: { app: "app" } },
        template: {
          metadata: { labels: { app: "app" } },
          spec: {
            imagePullSecrets: [{ name: "regcred" }],
            containers: [{ name: "app", image: privateImage, command: ["sleep", "3600"] }],
          },
        },
      },
    };
    kubectl(["apply", "-f", "-"], stringify(deployment));
    kubectl(["-n", NS, "rollout", "status", "deployment/app", "--timeout=600s"]);
    const pod = JSON.parse(kubectl(["-n", NS, "get", "pods", "-l", "app=app", "-o", "json"])).items[0];
    expect(pod.spec.containers[0].image).toBe(`127.0.0.1:65001/${privateImage}`);
    expect(pod.metadata.annotations["k8s.aliyun.com/image-accelerate-mode"]).toBe("p2p");
    expect(JSON.parse(pod.metadata.annotations["k8s.aliyun.com/p2p-config"]).originalImages).toEqual({
      app: privateImage,
    });
    expect(pod.spec.imagePullSecrets).toContainEqual({ name: "acr-credential-regcred-p2p" });

    const agents = JSON.parse(
      kubectl([
        "-n",
        "peerpull-system",
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/name=peerpull-agent",
        "-o",
        "json",
      ]),
    ).items;
    let served = 0;
    for (const agent of agents) {
      const text = kubectl([
        "get",
        "--raw",
        `/api/v1/namespaces/peerpull-system/pods/${agent.metadata.name}:65002/proxy/metrics`,
      ]);
      for (const line of text.split("\n"))
        if (line.startsWith("peerpull_blob_bytes_total")) served += Number(line.split(" ").pop());
    }
    expect(served).toBeGreaterThan(0);
  });

  it("uninstalls: deleting the config removes what it created", () => {
    kubectl(["delete", "namespace", NS, "--wait=true", "--timeout=300s"]);
    kubectl(["delete", "p2pconfig", "default", "--wait=true"]);
    kubectl(["wait", "namespace/peerpull-system", "--for=delete", "--timeout=300s"]);
    kubectl(["delete", "-f", MODULE_YAML, "--ignore-not-found"]);
    kubectl(["delete", "-f", join(ROOT, "crds/"), "--ignore-not-found"]);
  });
});
