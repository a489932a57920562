/**
 * `npx peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE]`: prints, as
 * multi-document YAML, the objects the reconciler would apply for that config (without the owner
 * references, which need the live object's uid). Registries that need the cloud (acrInstances) are
 * reported on stderr and left out. The peer token is new on every run unless a file gives it.
 */
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { text } from "../../protocol/config-parsers";
import { ConfigError, Field, helpText, parseSettings, readArgs, Settings } from "../../protocol/config-table";
import { parsePeerToken } from "../../protocol/peer-token";
import { PEERPULL_VERSION } from "../../protocol/version";
import type { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";
import { desiredObjects } from "./desired-objects";
import { SYSTEM_NAMESPACE } from "./names";
import { randomToken } from "./reconcile";
import { resolveRegistries } from "./registries";

export interface RenderResult {
  code: number;
  stdout: string;
  stderr: string;
}

const FIELDS = {
  file: { flag: "file", short: "f", help: "the P2PAccelerationConfig (YAML)", required: true, parse: text },
  namespace: {
    flag: "namespace",
    short: "n",
    help: "namespace of the agents and trackers",
    default: SYSTEM_NAMESPACE,
    parse: text,
  },
  peerTokenFile: {
    flag: "peer-token-file",
    help: "file with the peer token to render (default: a new random one)",
    parse: text,
  },
} satisfies Record<string, Field>;

const HELP = helpText(FIELDS, {
  usage: "peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE]",
  about: [
    "Prints, as multi-document YAML, the objects the reconciler would apply for a P2PAccelerationConfig.",
  ],
});

export async function render(argv: string[]): Promise<RenderResult> {
  let values: Settings<typeof FIELDS>;
  try {
    const command = readArgs(argv, FIELDS);
    if (command.action === "help") return { code: 0, stdout: HELP + "\n", stderr: "" };
    if (command.action === "version")
      return { code: 0, stdout: `peerpull-render ${PEERPULL_VERSION}\n`, stderr: "" };
    const parsed = parseSettings(FIELDS, command.given, "flag");
    if (parsed.problems.length > 0) throw new ConfigError(parsed.problems);
    values = parsed.settings;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { code: 2, stdout: "", stderr: `peerpull-render: ${err.message}\n(peerpull-render --help)\n` };
  }
  let config: P2PAccelerationConfig;
  let peerToken: string;
  try {
    config = parse(readFileSync(values.file, "utf8"));
    peerToken = values.peerTokenFile ? readPeerToken(values.peerTokenFile) : randomToken();
  } catch (err) {
    return { code: 2, stdout: "", stderr: `${(err as Error).message}\n` };
  }
  if (config?.kind !== "P2PAccelerationConfig")
    return { code: 2, stdout: "", stderr: `${values.file}: not a P2PAccelerationConfig\n` };
  const spec = config.spec ?? {};
  const registries = await resolveRegistries(spec, undefined);
  const notes = spec.acrInstances?.length
    ? `left out, they need the cloud to resolve: acrInstances ${spec.acrInstances.join(", ")}\n`
    : "";
  const namespace = values.namespace;
  const desired = desiredObjects({ spec, registries: registries.registries, peerToken, namespace });
  if (!desired.ok)
    return { code: 1, stdout: "", stderr: `${notes}${desired.reason}: ${desired.problems.join("; ")}\n` };
  return { code: 0, stdout: desired.objects.map(o => "---\n" + stringify(o)).join(""), stderr: notes };
}

function readPeerToken(file: string): string {
  const text = readFileSync(file, "utf8");
  try {
    return parsePeerToken(text);
  } catch (err) {
    throw new Error(`--peer-token-file ${file}: ${(err as Error).message}`);
  }
}
