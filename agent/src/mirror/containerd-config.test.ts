import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkContainerdConfig, readContainerdConfig } from "./containerd-config";

const DIR = "/etc/containerd/certs.d";
const doc = (text: string, path = "/etc/containerd/config.toml") => [{ path, text }];

describe("checkContainerdConfig accepts", () => {
  const rows = [
    {
      name: "containerd 1.x (version 2) with config_path",
      text: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${DIR}"\n`,
    },
    {
      name: "containerd 2.x (version 3)",
      text: `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\nconfig_path = "${DIR}"\n`,
    },
    { name: "version 1 short plugin names", text: `[plugins.cri.registry]\nconfig_path = "${DIR}/"\n` },
    {
      name: "a list of directories (dotted keys)",
      text: `version = 2\nplugins."io.containerd.grpc.v1.cri".registry.config_path = "/etc/docker/certs.d:${DIR}"\n`,
    },
  ];
  it.each(rows)("$name", ({ text }) => expect(checkContainerdConfig(doc(text), DIR).ok).toBe(true));
});

describe("checkContainerdConfig warns", () => {
  const rows = [
    { name: "no config at all (containerd defaults)", text: "", problem: /config_path is not set/ },
    {
      name: "legacy mirrors instead of config_path",
      text: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\nendpoint = ["https://x"]\n`,
      problem: /config_path is not set/,
    },
    {
      name: "empty config_path",
      text: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = ""\n`,
      problem: /config_path is not set/,
    },
    {
      name: "another directory",
      text: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/etc/docker/certs.d"\n`,
      problem: /reads hosts.toml files from \/etc\/docker\/certs.d .*not from \/etc\/containerd\/certs.d/,
    },
    { name: "not TOML", text: "version = = 2", problem: /not valid TOML/ },
  ];
  it.each(rows)("$name", ({ text, problem }) => {
    const check = checkContainerdConfig(doc(text), DIR);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problem).toMatch(problem);
  });
});

describe("readContainerdConfig", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "containerd-config-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("follows imports, with a later file overriding the main one", async () => {
    await mkdir(join(dir, "conf.d"));
    await writeFile(
      join(dir, "config.toml"),
      `version = 2\nimports = ["conf.d/*.toml"]\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/elsewhere"\n`,
    );
    await writeFile(
      join(dir, "conf.d", "10-registry.toml"),
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "${DIR}"\n`,
    );
    await writeFile(join(dir, "conf.d", "README"), "not toml");
    const docs = await readContainerdConfig(join(dir, "config.toml"));
    expect(docs.map(d => d.path)).toEqual([
      join(dir, "config.toml"),
      join(dir, "conf.d", "10-registry.toml"),
    ]);
    expect(checkContainerdConfig(docs, DIR).ok).toBe(true);
  });
});
