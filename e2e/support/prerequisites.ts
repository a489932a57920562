/**
 * Suites that need root, real tools or generated files. Without them a suite (or one test) is
 * reported skipped with its name and the reason; under CI=true as root a missing piece is a
 * failure, never a skip (CI installs every tool and runs as root). The one exception is a live
 * Kubernetes cluster (`cluster`), which CI does not have: that skip is reported, not failed.
 * The built binaries need nothing here: jest's global setup builds them before any suite.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface Needs {
  /** Network namespaces, containerd: root. */
  root?: boolean;
  /** Commands that must run, e.g. ["containerd", "--version"]. */
  commands?: ReadonlyArray<readonly string[]>;
  /** Files another step makes, and that step, e.g. dist/… and "npx pepr build". */
  files?: ReadonlyArray<{ path: string; madeBy: string }>;
  /** Any other check: the reason it is missing, or undefined. */
  check?: () => string | undefined;
  /** Why no cluster can be reached, or undefined: the one thing CI may skip. */
  cluster?: () => string | undefined;
}

const INSTALL = "bash hack/install-deps.sh";

/** Suites of network-namespace nodes without containerd (hack/netns: a registry, tc shaping). */
export const NETNS_NEEDS: Needs = {
  root: true,
  commands: [
    ["ip", "netns", "list"],
    ["tc", "-V"],
    ["docker-registry", "--version"],
  ],
};

/** The network-namespace node suites: NETNS_NEEDS, and containerd, ctr and skopeo on each node. */
export const NODE_NEEDS: Needs = {
  root: true,
  commands: [
    ...(NETNS_NEEDS.commands ?? []),
    ["containerd", "--version"],
    ["ctr", "--version"],
    ["skopeo", "--version"],
  ],
};

export function missingPrerequisite(needs: Needs): string | undefined {
  if (needs.root && process.getuid?.() !== 0) return "needs root (network namespaces, containerd)";
  for (const [cmd, ...args] of needs.commands ?? []) {
    try {
      execFileSync(cmd, args, { stdio: "ignore", timeout: 10_000 });
    } catch {
      return `\`${[cmd, ...args].join(" ")}\` does not run (${INSTALL})`;
    }
  }
  for (const { path, madeBy } of needs.files ?? [])
    if (!existsSync(path)) return `${path} is missing (${madeBy})`;
  return needs.check?.();
}

/** Whether a missing piece fails rather than skips: CI=true as root, where everything is installed. */
function mustRun(): boolean {
  return process.env.CI === "true" && process.getuid?.() === 0;
}

/** describe(), or a named skip saying why, or (CI=true as root) a failing test saying why. */
export function describeWith(needs: Needs, name: string, body: () => void): void {
  const missing = missingPrerequisite(needs);
  if (missing && mustRun())
    return describe(name, () => {
      it("has every prerequisite (CI=true as root skips nothing)", () => {
        throw new Error(`${name}: ${missing}`);
      });
    });
  const reason = missing ?? needs.cluster?.();
  if (reason === undefined) return describe(name, body);
  process.stderr.write(`skipped: ${name}: ${reason}\n`);
  describe.skip(`${name} [skipped: ${reason}]`, body);
}

/** it(), or a named skip saying why, or (CI=true as root) a failing test saying why. */
export function itWith(needs: Needs, name: string, fn: jest.ProvidesCallback, timeoutMs?: number): void {
  const missing = missingPrerequisite(needs);
  if (!missing) return it(name, fn, timeoutMs);
  if (mustRun())
    return it(name, () => {
      throw new Error(`${name}: ${missing} (CI=true as root skips nothing)`);
    });
  process.stderr.write(`skipped: ${name}: ${missing}\n`);
  it.skip(`${name} [skipped: ${missing}]`, fn);
}
