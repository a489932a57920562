/**
 * `npx peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE] [--mirror-cleanup]
 * [--acr-secret-file FILE]`: prints, as multi-document YAML, the objects the reconciler would apply
 * for that config (without the owner references, which need the live object's uid). ACR instances
 * are resolved when credentials are given (render-acr.ts), else reported on stderr and left out; a
 * cloud error is one line on stderr with its code and RequestId, and exit 1. The peer token is new
 * on every run unless a file gives it. Flags through the settings kit (protocol/config-table.ts).
 */
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { boolean, text } from "../../protocol/config-parsers";
import { ConfigError, Field, helpText, parseSettings, readArgs, Settings } from "../../protocol/config-table";
import { parsePeerToken } from "../../protocol/peer-token";
import { PEERPULL_VERSION } from "../../protocol/version";
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
  mirrorCleanup: {
    flag: "mirror-cleanup",
    switch: true,
    help: "render the rewrite-mode agents that first remove mirror mode's hosts.toml files",
    parse: boolean,
  },
  acrSecretFile: {
    flag: "acr-secret-file",
    help: `a Secret manifest with the AccessKey to resolve acrInstances (or ${ENV_KEY_ID}/${ENV_KEY_SECRET})`,
    parse: text,
  },
  acrEndpoint: {
    flag: "acr-endpoint",
    help: "another Container Registry API endpoint (a proxy, or a test's stand-in)",
    parse: text,
  },
} satisfies Record<string, Field>;

const HELP = helpText(FIELDS, {
  usage: "peerpull-render -f CONFIG.yaml [--namespace NS] [--peer-token-file FILE] [--mirror-cleanup]",
  about: [
    "Prints, as multi-document YAML, the objects the reconciler would apply for a P2PAccelerationConfig.",
  ],
});

type Values = Settings<typeof FIELDS>;

export async function render(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<RenderResult> {
  let values: Values;
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
    return usageError(`peerpull-render: ${err.message}\n(peerpull-render --help)`);
  }
  let config: P2PAccelerationConfig;
  let peerToken: string;
  try {
    config = parse(readFileSync(values.file, "utf8"));
    peerToken = values.peerTokenFile ? readPeerToken(values.peerTokenFile) : randomToken();
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (config?.kind !== "P2PAccelerationConfig")
    return usageError(`${values.file}: not a P2PAccelerationConfig`);
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
  const desired = desiredObjects({
    spec,
    registries: registries.registries,
    peerToken,
    namespace: values.namespace,
    mirrorCleanup: values.mirrorCleanup === true,
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
  values: Values,
  env: Record<string, string | undefined>,
): Promise<RegistriesOutcome & { note: string }> {
  const instances = spec.acrInstances ?? [];
  const resolver = renderAcrResolver({ secretFile: values.acrSecretFile, endpoint: values.acrEndpoint, env });
  if (instances.length === 0) return { ...registriesOutcome(spec, undefined, []), note: "" };
  if (!resolver)
    return {
      ...registriesOutcome(spec, undefined, []),
      note:
        `left out, they need the cloud to resolve: acrInstances ${instances.join(", ")} ` +
        `(give credentials with --acr-secret-file FILE or ${ENV_KEY_ID}/${ENV_KEY_SECRET})\n`,
    };
  const resolution = await resolver.resolve(withGivenCredentials(spec));
  // The cloud out of reach: render what does not need it and say what is missing. An error the
  // cloud answered (a bad key, an unknown instance, throttling) stays an error: the user fixes it.
  if (resolution.error?.code === "NetworkError")
    return {
      ...registriesOutcome(spec, undefined, []),
      note:
        `left out, the cloud cannot be reached to resolve them: acrInstances ${instances.join(", ")} ` +
        `(${acrErrorText(resolution.error)})\n`,
    };
  const outcome = registriesOutcome(spec, resolution, []);
  if (resolution.error)
    return {
      ...outcome,
      note: `peerpull-render: ACR resolution failed: ${acrErrorText(resolution.error)}\n`,
    };
  const hosts = resolution.registries.map(r => r.host).join(", ");
  return { ...outcome, note: `resolved acrInstances ${instances.join(", ")}: ${hosts}\n` };
}

function readPeerToken(file: string): string {
  const content = readFileSync(file, "utf8");
  try {
    return parsePeerToken(content);
  } catch (err) {
    throw new Error(`--peer-token-file ${file}: ${(err as Error).message}`);
  }
}

function usageError(message: string): RenderResult {
  return { code: 2, stdout: "", stderr: `${message}\n` };
}
