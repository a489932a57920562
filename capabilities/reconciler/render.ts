/**
 * `npx peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE]`: prints, as
 * multi-document YAML, the objects the reconciler would apply for that config (without the owner
 * references, which need the live object's uid). Registries that need the cloud (acrInstances) are
 * reported on stderr and left out. The peer token is new on every run unless a file gives it.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
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

const USAGE = "usage: peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE]";

export async function render(argv: string[]): Promise<RenderResult> {
  let values: { file?: string; namespace?: string; "peer-token-file"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: "string", short: "f" },
        namespace: { type: "string", short: "n" },
        "peer-token-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    return { code: 2, stdout: "", stderr: `${(err as Error).message}\n${USAGE}\n` };
  }
  if (values.help) return { code: 0, stdout: USAGE + "\n", stderr: "" };
  if (!values.file) return { code: 2, stdout: "", stderr: `-f is required\n${USAGE}\n` };
  let config: P2PAccelerationConfig;
  let peerToken: string;
  try {
    config = parse(readFileSync(values.file, "utf8"));
    peerToken = values["peer-token-file"]
      ? readFileSync(values["peer-token-file"], "utf8").trim()
      : randomToken();
  } catch (err) {
    return { code: 2, stdout: "", stderr: `${(err as Error).message}\n` };
  }
  if (config?.kind !== "P2PAccelerationConfig")
    return { code: 2, stdout: "", stderr: `${values.file}: not a P2PAccelerationConfig\n` };
  if (peerToken.length < 16) return { code: 2, stdout: "", stderr: "peer token: fewer than 16 characters\n" };
  const spec = config.spec ?? {};
  const registries = await resolveRegistries(spec, undefined);
  const notes = spec.acrInstances?.length
    ? `left out, they need the cloud to resolve: acrInstances ${spec.acrInstances.join(", ")}\n`
    : "";
  const namespace = values.namespace ?? SYSTEM_NAMESPACE;
  const desired = desiredObjects({ spec, registries: registries.registries, peerToken, namespace });
  if (!desired.ok)
    return { code: 1, stdout: "", stderr: `${notes}${desired.reason}: ${desired.problems.join("; ")}\n` };
  return { code: 0, stdout: desired.objects.map(o => "---\n" + stringify(o)).join(""), stderr: notes };
}
