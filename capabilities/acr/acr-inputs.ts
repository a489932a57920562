/**
 * Pure: the part of a `P2PAccelerationConfig` spec that ACR resolution depends on, checked and with
 * the add-on's defaults filled in. Two specs with the same `inputsKey` resolve the same way, so a
 * cached resolution is reused only while the key stays the same.
 */
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import type { AcrError } from "./acr-resolver";

/** Where the managed add-on keeps its AccessKey; its users' Secret works unchanged. */
export const DEFAULT_SECRET_NAMESPACE = "kube-system";
export const DEFAULT_SECRET_NAME = "alibaba-addon-secret";

export const INSTANCE_ID = /^cri-[a-z0-9]{8,32}$/;
export const REGION = /^[a-z]{2,}(-[a-z0-9]+)+$/;
export const RAM_ROLE = /^[A-Za-z0-9._-]{1,64}$/;

export type CredentialsRef =
  | { kind: "secret"; namespace: string; name: string }
  | { kind: "ramRole"; roleName: string };

export interface AcrInputs {
  region: string;
  /** In spec order, duplicates dropped. */
  instanceIds: readonly string[];
  pullImageInternet: boolean;
  credentials: CredentialsRef;
}

export type InputsCheck =
  | { kind: "none" } // no ACR instances configured: nothing to resolve, no credentials needed
  | { kind: "ok"; inputs: AcrInputs }
  | { kind: "invalid"; error: AcrError };

export function acrInputsOf(spec: P2PAccelerationConfigSpec): InputsCheck {
  const ids = [...new Set(spec.acrInstances ?? [])];
  if (ids.length === 0) return { kind: "none" };
  const problems: string[] = [];
  const badIds = ids.filter(id => typeof id !== "string" || !INSTANCE_ID.test(id));
  if (badIds.length > 0)
    problems.push(`acrInstances ${JSON.stringify(badIds)} are not ACR instance ids (cri-<8 to 32 a-z0-9>)`);
  const region = spec.region ?? "";
  if (!REGION.test(region))
    problems.push(
      region
        ? `region ${JSON.stringify(region)} is not a region id (e.g. cn-hangzhou)`
        : "region is required",
    );
  const credentials = credentialsRefOf(spec.credentials, problems);
  if (problems.length > 0 || !credentials)
    return {
      kind: "invalid",
      error: { code: "InvalidSpec", message: problems.join("; "), retryable: false },
    };
  return {
    kind: "ok",
    inputs: { region, instanceIds: ids, pullImageInternet: spec.pullImageInternet === true, credentials },
  };
}

function credentialsRefOf(
  credentials: P2PAccelerationConfigSpec["credentials"],
  problems: string[],
): CredentialsRef | undefined {
  const { secretRef, ramRole } = credentials ?? {};
  if (ramRole !== undefined) {
    if (secretRef !== undefined) {
      problems.push("credentials: set either secretRef or ramRole, not both");
      return undefined;
    }
    if (typeof ramRole !== "string" || !RAM_ROLE.test(ramRole)) {
      problems.push(`credentials.ramRole ${JSON.stringify(ramRole)} is not a RAM role name`);
      return undefined;
    }
    return { kind: "ramRole", roleName: ramRole };
  }
  return {
    kind: "secret",
    namespace: secretRef?.namespace || DEFAULT_SECRET_NAMESPACE,
    name: secretRef?.name || DEFAULT_SECRET_NAME,
  };
}

export function inputsKey(inputs: AcrInputs): string {
  return JSON.stringify([inputs.region, inputs.instanceIds, inputs.pullImageInternet, inputs.credentials]);
}

/** How the credentials are named in messages: "Secret kube-system/alibaba-addon-secret" or "RAM role x". */
export function describeCredentials(ref: CredentialsRef): string {
  return ref.kind === "secret" ? `Secret ${ref.namespace}/${ref.name}` : `RAM role ${ref.roleName}`;
}
