/**
 * The reconciler's bindings as Pepr registers them: the credentials Secret of the active config asks
 * for a pass when it is created or edited (so a fixed AccessKey is used at once); other Secrets do not.
 */
import type { PassResult } from "./reconcile";

// Pepr registers Watch bindings only in build, dev or watch mode; set before pepr is loaded.
process.env.PEPR_MODE = "build";
/* eslint-disable @typescript-eslint/no-require-imports */
const { reconcilerCapability } = require("./capability") as typeof import("./capability");
const { ReconcileController } = require("./controller") as typeof import("./controller");
const { RecordingLog } = require("../testing/recording-log") as typeof import("../testing/recording-log");
/* eslint-enable @typescript-eslint/no-require-imports */

const secret = (namespace: string, name: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { namespace, name },
});

describe("reconciler bindings", () => {
  const results: PassResult[] = [];
  const pass = jest.fn(async (): Promise<PassResult> => results.shift() ?? { retry: false });
  const controller = new ReconcileController({ pass, log: new RecordingLog() });
  const capability = reconcilerCapability(controller, "peerpull-system");
  const secretBinding = capability.bindings.find(b => b.isWatch && b.kind.kind === "Secret")!;
  const onSecret = (namespace: string, name: string) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    secretBinding.watchCallback!(secret(namespace, name) as any, "MODIFIED" as any);

  beforeEach(() => pass.mockClear());

  it("watches Secrets in every namespace, created or updated", () => {
    expect(secretBinding).toBeDefined();
    expect(secretBinding.filters.namespaces).toEqual([]);
    expect(secretBinding.event).toBe("CREATEORUPDATE");
  });

  it("a change to the active config's credentials Secret asks for a pass; others do not", async () => {
    await onSecret("kube-system", "alibaba-addon-secret");
    expect(pass).not.toHaveBeenCalled(); // no pass has said which Secret matters yet
    results.push({
      retry: false,
      active: "default",
      credentialsSecret: { namespace: "kube-system", name: "alibaba-addon-secret" },
    });
    await controller.request("created");
    pass.mockClear();
    await onSecret("kube-system", "other");
    await onSecret("shop", "alibaba-addon-secret");
    expect(pass).not.toHaveBeenCalled();
    await onSecret("kube-system", "alibaba-addon-secret");
    expect(pass).toHaveBeenCalledTimes(1);
  });

  it("a config without ACR credentials (no instances, or a RAM role) watches no Secret", async () => {
    results.push({ retry: false, active: "default" });
    await controller.request("updated");
    pass.mockClear();
    await onSecret("kube-system", "alibaba-addon-secret");
    expect(pass).not.toHaveBeenCalled();
  });
});
