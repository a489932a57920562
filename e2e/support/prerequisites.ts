/**
 * Suites that need root, real tools or generated files. Without them a suite (or one test) is
 * reported skipped with its name and the reason; under CI=true as root a missing piece is a
 * failure, never a skip (CI installs every tool and runs as root). The one exception is a live
 * Kubernetes cluster (`cluster`), which CI does not have: that skip is reported, not failed.
 * The built binaries need nothing here: jest's global setup builds them before any suite.
 */
import { spawnSync } from "node:child_process";
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
    // A second try: one failure under load (EAGAIN, ENOMEM from spawn) is not a missing tool.
    const failure = commandFailure(cmd, args) && commandFailure(cmd, args);
    if (failure) return `\`${[cmd, ...args].join(" ")}\` does not run: ${failure} (${INSTALL})`;
  }
  for (const { path, madeBy } of needs.files ?? [])
    if (!existsSync(path)) return `${path} is missing (${madeBy})`;
  return needs.check?.();
}

/**
 * Why a command does not run, or undefined when it does. The timeout is generous: on a fresh
 * machine the first start of a large binary (prometheus is ~50 MB) reads it from a cold disk.
 */
function commandFailure(cmd: string, args: readonly string[]): string | undefined {
  const result = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], timeout: COMMAND_TIMEOUT_MS });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") return "not installed";
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ETIMEDOUT")
    return `no answer within ${COMMAND_TIMEOUT_MS / 1000} s`;
  if (result.error) return result.error.message;
  if (result.status === 0) return undefined;
  const stderr = result.stderr.toString().trim().split("\n").slice(-1)[0] ?? "";
  const how = result.status === null ? `killed by ${result.signal}` : `exit code ${result.status}`;
  return stderr ? `${how}: ${stderr}` : how;
}

const COMMAND_TIMEOUT_MS = 60_000;

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
