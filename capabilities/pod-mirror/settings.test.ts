import { accelerationConfig } from "../testing/fixtures";
import { selectSettings } from "./settings";

describe("selectSettings", () => {
  it("is undefined without configs", () => expect(selectSettings([])).toBeUndefined());

  it("takes defaults from the CRD: rewrite, port 65001, the aliyun opt-in label", () => {
    const s = selectSettings([
      accelerationConfig([{ host: "Index.Docker.io", anonymous: true }, { host: "r.io" }]),
    ])!;
    expect(s).toEqual({
      configName: "default",
      mode: "rewrite",
      port: 65001,
      optInLabel: "k8s.aliyun.com/image-accelerate-mode",
      registries: new Map([
        ["docker.io", { anonymous: true }],
        ["r.io", { anonymous: false }],
      ]),
    });
  });

  it("prefers the status's resolved registries once the reconciler filled them", () => {
    const config = accelerationConfig([{ host: "r.io", anonymous: true }], {
      p2p: { port: 7000 },
      optInLabel: "p2p",
    });
    config.status = {
      registries: [
        { host: "r.io", origin: "https://r.io", source: "static" },
        {
          host: "x-registry.cn-hangzhou.cr.aliyuncs.com",
          origin: "https://x-vpc",
          source: "acr",
          instanceId: "cri-abcdefgh",
        },
      ],
    };
    const s = selectSettings([config])!;
    expect([...s.registries]).toEqual([
      ["r.io", { anonymous: true }],
      ["x-registry.cn-hangzhou.cr.aliyuncs.com", { anonymous: false }],
    ]);
    expect(s.port).toBe(7000);
    expect(s.optInLabel).toBe("p2p");
  });

  it("picks the config named default, else the first by name; ignores deleting ones", () => {
    const b = accelerationConfig([{ host: "b.io" }], {}, "b");
    const a = accelerationConfig([{ host: "a.io" }], {}, "a");
    const d = accelerationConfig([{ host: "d.io" }], {}, "default");
    expect(selectSettings([b, d, a])!.configName).toBe("default");
    expect(selectSettings([b, a])!.configName).toBe("a");
    a.metadata!.deletionTimestamp = new Date();
    expect(selectSettings([a, b])!.configName).toBe("b");
  });
});
