import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { version } from "../../package.json";
import { k8sSchemaProblems } from "../testing/k8s-schema";
import { desiredObjects } from "./desired-objects";
import { render } from "./render";
import { staticRegistries } from "./registries";

const EXAMPLE = join(__dirname, "../../manifests/p2p-acceleration-config.yaml");

describe("peerpull-render", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "render-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it("prints exactly the objects the reconciler applies for the example config, all valid", async () => {
    const token = file("token", "k".repeat(40) + "\n");
    const out = await render(["-f", EXAMPLE, "--namespace", "p2p", "--peer-token-file", token]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
    const docs = parseAllDocuments(out.stdout).map(d => d.toJSON());
    expect(docs.flatMap(k8sSchemaProblems)).toEqual([]);
    expect(docs.every(d => d.metadata.namespace === "p2p" || d.kind === "Namespace")).toBe(true);
    const { parse } = await import("yaml");
    const { readFileSync } = await import("node:fs");
    const spec = parse(readFileSync(EXAMPLE, "utf8")).spec;
    const expected = desiredObjects({
      spec,
      registries: staticRegistries(spec),
      peerToken: "k".repeat(40),
      namespace: "p2p",
    });
    expect(expected.ok && JSON.parse(JSON.stringify(expected.objects))).toEqual(docs);
  });

  it("reports ACR instances on stderr and leaves them out", async () => {
    const config = file(
      "acr.yaml",
      stringify({
        apiVersion: "peerpull.io/v1alpha1",
        kind: "P2PAccelerationConfig",
        metadata: { name: "default" },
        spec: { acrInstances: ["cri-abcdef12345678"], registries: [{ host: "registry.example.com" }] },
      }),
    );
    const out = await render(["-f", config]);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/left out.*acrInstances cri-abcdef12345678/);
    expect(out.stdout).not.toContain("cri-abcdef12345678");
  });

  it("--mirror-cleanup renders the rewrite-mode agents that first remove mirror mode's hosts.toml files", async () => {
    const plain = await render(["-f", EXAMPLE]);
    const cleanup = await render(["-f", EXAMPLE, "--mirror-cleanup"]);
    expect(cleanup.code).toBe(0);
    const initOf = (stdout: string) =>
      parseAllDocuments(stdout)
        .map(d => d.toJSON())
        .find(d => d.kind === "DaemonSet").spec.template.spec.initContainers;
    expect(initOf(plain.stdout)).toBeUndefined();
    expect(initOf(cleanup.stdout).map((c: { name: string }) => c.name)).toEqual(["mirror-cleanup"]);
  });

  const failures = [
    { name: "no -f", argv: [], code: 2, stderr: /^peerpull-render: --file: required\n/ },
    { name: "an unknown flag", argv: ["-f", EXAMPLE, "--nope"], code: 2, stderr: /--nope: unknown flag/ },
    { name: "a positional argument", argv: [EXAMPLE], code: 2, stderr: /unexpected argument/ },
    { name: "a missing file", argv: ["-f", "/nonexistent.yaml"], code: 2, stderr: /ENOENT/ },
    {
      name: "a missing token file",
      argv: ["-f", EXAMPLE, "--peer-token-file", __filename + ".missing"],
      code: 2,
      stderr: /ENOENT/,
    },
  ];
  it.each(failures)("exits $code on $name", async ({ argv, code, stderr }) => {
    const out = await render(argv);
    expect(out).toMatchObject({ code, stdout: "" });
    expect(out.stderr).toMatch(stderr);
  });

  it("answers -h and --version on stdout", async () => {
    for (const flag of ["-h", "--help"]) {
      const out = await render([flag]);
      expect(out).toMatchObject({ code: 0, stderr: "" });
      expect(out.stdout).toMatch(/^Usage: peerpull-render -f CONFIG.yaml/);
      expect(out.stdout).toContain("--peer-token-file");
    }
    expect(await render(["--version"])).toEqual({
      code: 0,
      stdout: `peerpull-render ${version}\n`,
      stderr: "",
    });
  });

  it("refuses a token file shorter than 16 characters, saying so", async () => {
    const out = await render(["-f", EXAMPLE, "--peer-token-file", file("short", "too-short\n")]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toMatch(
      /--peer-token-file .*short: the token must have at least 16 characters, it has 9/,
    );
  });

  it("refuses a config the agent would reject, saying why, and prints nothing", async () => {
    const config = file(
      "bad.yaml",
      stringify({
        kind: "P2PAccelerationConfig",
        spec: { registries: [{ host: "r.io" }], p2p: { ratelimit: "0" } },
      }),
    );
    const out = await render(["-f", config]);
    expect(out).toMatchObject({ code: 1, stdout: "" });
    expect(out.stderr).toMatch(/InvalidConfig: ratelimit: must be greater than 0/);
  });
});
