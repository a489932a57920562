/**
 * `npx peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE] [--mirror-cleanup]
 * [--acr-secret-file FILE]`: prints, as multi-document YAML, the objects the reconciler would apply
 * for that config (without the owner references, which need the live object's uid). ACR instances
 * are resolved when credentials are given (render-acr.ts), else reported on stderr and left out; a
 * cloud error is one line on stderr with its code and RequestId, and exit 1. The peer token is new
 * on every run unless a file gives it.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import type { P2PAccelerationConfig, P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { desiredObjects } from "./desired-objects";
import { SYSTEM_NAMESPACE } from "./names";
import { randomToken } from "./reconcile";
import { acrErrorText, registriesOutcome, RegistriesOutcome } from "./registries";
import {
  ENV_KEY_ID,
  ENV_KEY_SECRET,
  RenderInputError,
  renderAcrResolver,
  withGivenCredentials,
} from "./render-acr";

export interface RenderResult {
  code: number;
  stdout: string;
  stderr: string;
}

const USAGE =
  "usage: peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE] [--mirror-cleanup]\n" +
  "                      [--acr-secret-file SECRET.yaml]   (or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET)";

interface Flags {
  file?: string;
  namespace?: string;
  "peer-token-file"?: string;
  "mirror-cleanup"?: boolean;
  "acr-secret-file"?: string;
  "acr-endpoint"?: string;
  help?: boolean;
}

export async function render(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<RenderResult> {
  let values: Flags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: "string", short: "f" },
        namespace: { type: "string", short: "n" },
        "peer-token-file": { type: "string" },
        "mirror-cleanup": { type: "boolean" },
        "acr-secret-file": { type: "string" },
        "acr-endpoint": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    return usageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return { code: 0, stdout: USAGE + "\n", stderr: "" };
  if (!values.file) return usageError(`-f is required\n${USAGE}`);
  let config: P2PAccelerationConfig;
  let peerToken: string;
  try {
    config = parse(readFileSync(values.file, "utf8"));
    peerToken = values["peer-token-file"]
      ? readFileSync(values["peer-token-file"], "utf8").trim()
      : randomToken();
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (config?.kind !== "P2PAccelerationConfig")
    return usageError(`${values.file}: not a P2PAccelerationConfig`);
  if (peerToken.length < 16) return usageError("peer token: fewer than 16 characters");
  const spec = config.spec ?? {};
  let registries: RegistriesOutcome & { note: string };
  try {
    registries = await resolve(spec, values, env);
  } catch (err) {
    if (err instanceof RenderInputError) return usageError(err.message);
    throw err;
  }
  if (!registries.resolved && registries.reason === "AcrResolutionFailed")
    return { code: 1, stdout: "", stderr: registries.note };
  const namespace = values.namespace ?? SYSTEM_NAMESPACE;
  const desired = desiredObjects({
    spec,
    registries: registries.registries,
    peerToken,
    namespace,
    mirrorCleanup: values["mirror-cleanup"] === true,
  });
  if (!desired.ok)
    return {
      code: 1,
      stdout: "",
      stderr: `${registries.note}${desired.reason}: ${desired.problems.join("; ")}\n`,
    };
  return {
    code: 0,
    stdout: desired.objects.map(o => "---\n" + stringify(o)).join(""),
    stderr: registries.note,
  };
}

/** Static registries, plus ACR ones when credentials were given; `note` is what stderr says. */
async function resolve(
  spec: P2PAccelerationConfigSpec,
  values: Flags,
  env: Record<string, string | undefined>,
): Promise<RegistriesOutcome & { note: string }> {
  const instances = spec.acrInstances ?? [];
  const resolver = renderAcrResolver({
    secretFile: values["acr-secret-file"],
    endpoint: values["acr-endpoint"],
    env,
  });
  if (instances.length === 0) return { ...registriesOutcome(spec, undefined, []), note: "" };
  if (!resolver)
    return {
      ...registriesOutcome(spec, undefined, []),
      note:
        `left out, they need the cloud to resolve: acrInstances ${instances.join(", ")} ` +
        `(give credentials with --acr-secret-file FILE or ${ENV_KEY_ID}/${ENV_KEY_SECRET})\n`,
    };
  const resolution = await resolver.resolve(withGivenCredentials(spec));
  const outcome = registriesOutcome(spec, resolution, []);
  if (resolution.error)
    return {
      ...outcome,
      note: `peerpull-render: ACR resolution failed: ${acrErrorText(resolution.error)}\n`,
    };
  const hosts = resolution.registries.map(r => r.host).join(", ");
  return { ...outcome, note: `resolved acrInstances ${instances.join(", ")}: ${hosts}\n` };
}

function usageError(message: string): RenderResult {
  return { code: 2, stdout: "", stderr: `${message}\n` };
}
