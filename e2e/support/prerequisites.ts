/**
 * Suites that need root, real tools or the built binaries. Without them a suite is reported skipped
 * with its name and the reason; under CI=true as root a missing piece is a failure, never a skip.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { AGENT_BIN, TRACKER_BIN } from "../../hack/netns/cluster";

export interface Needs {
  /** Network namespaces, containerd: root. */
  root?: boolean;
  /** Commands that must run, e.g. ["containerd", "--version"]. */
  commands?: ReadonlyArray<readonly string[]>;
}

/** The network-namespace node suites: root, iproute2, containerd, the registry, skopeo. */
export const NODE_NEEDS: Needs = {
  root: true,
  commands: [
    ["ip", "netns", "list"],
    ["tc", "-V"],
    ["containerd", "--version"],
    ["ctr", "--version"],
    ["docker-registry", "--version"],
    ["skopeo", "--version"],
  ],
};

export function missingPrerequisite(needs: Needs): string | undefined {
  if (needs.root && process.getuid?.() !== 0) return "needs root (network namespaces, containerd)";
  for (const [cmd, ...args] of needs.commands ?? []) {
    try {
      execFileSync(cmd, args, { stdio: "ignore", timeout: 10_000 });
    } catch {
      return `\`${[cmd, ...args].join(" ")}\` does not run (bash hack/install-deps.sh)`;
    }
  }
  for (const bin of [AGENT_BIN, TRACKER_BIN])
    if (!existsSync(bin)) return `${bin} is missing (npm run build)`;
  return undefined;
}

/** describe(), or a named skip saying why, or (CI=true as root) a failing test saying why. */
export function describeWith(needs: Needs, name: string, body: () => void): void {
  const missing = missingPrerequisite(needs);
  if (!missing) return describe(name, body);
  if (process.env.CI === "true" && process.getuid?.() === 0)
    return describe(name, () => {
      it("has every prerequisite (CI=true as root skips nothing)", () => {
        throw new Error(`${name}: ${missing}`);
      });
    });
  process.stderr.write(`skipped: ${name}: ${missing}\n`);
  describe.skip(`${name} [skipped: ${missing}]`, body);
}
