/**
 * Cloud credentials for ACR resolution, through `@alicloud/credentials`, from exactly one of:
 * - the AccessKey in a Secret (keys `access-key-id` / `access-key-secret`, the managed add-on's
 *   `kube-system/alibaba-addon-secret` by default), read again at every resolution so an edited or
 *   rotated Secret is used without a restart;
 * - a RAM role, through the ECS instance metadata service (IMDSv2 token, then the role's STS
 *   credentials), which the library refreshes before they expire; one provider per role is kept.
 * Never the library's default chain: peerpull does not pick up whatever environment variables,
 * profile files or node role happen to be around.
 */
import Credential, {
  Config,
  type CredentialsProvider,
  ECSRAMRoleCredentialsProvider,
} from "@alicloud/credentials";
import type { V1Secret } from "@kubernetes/client-node";
import { failure } from "./acr-errors";
import { CredentialsRef, describeCredentials } from "./acr-inputs";

/** Reads a Secret as the API returns it (`data` base64-encoded); undefined when it does not exist. */
export type ReadSecret = (namespace: string, name: string) => Promise<V1Secret | undefined>;
export type RamRoleProviderFactory = (roleName: string) => CredentialsProvider;

export const ACCESS_KEY_ID = "access-key-id";
export const ACCESS_KEY_SECRET = "access-key-secret";
/** Printable ASCII, no spaces: what AccessKey ids and secrets are made of. */
const KEY_TEXT = /^[\x21-\x7e]{1,256}$/;

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
}

/** Pure: a Secret -> its AccessKey, or an error saying what is wrong with it. */
export function accessKeyOf(
  secret: V1Secret | undefined,
  ref: { namespace: string; name: string },
): AccessKey {
  const where = describeCredentials({ kind: "secret", ...ref });
  if (!secret)
    throw failure(
      "CredentialsMissing",
      `${where} not found: create it with keys ${ACCESS_KEY_ID} and ${ACCESS_KEY_SECRET}, or set credentials.ramRole`,
      false,
    );
  const read = (key: string): string => {
    const encoded = secret.data?.[key];
    if (encoded === undefined) throw malformedSecret(where, `has no key ${key}`);
    // a value written with `echo` ends in a newline; AccessKeys never contain whitespace
    const value = Buffer.from(encoded, "base64").toString("utf8").trim();
    if (!KEY_TEXT.test(value)) throw malformedSecret(where, `key ${key} is empty or not an AccessKey`);
    return value;
  };
  return { accessKeyId: read(ACCESS_KEY_ID), accessKeySecret: read(ACCESS_KEY_SECRET) };
}

function malformedSecret(where: string, what: string): Error {
  return failure("CredentialsMalformed", `${where} ${what}`, false);
}

/** The real RAM-role provider: ECS metadata at 100.100.100.200, IMDSv2 only. */
export function ecsRamRoleProvider(roleName: string): CredentialsProvider {
  return ECSRAMRoleCredentialsProvider.builder()
    .withRoleName(roleName)
    .withDisableIMDSv1(true)
    .withConnectTimeout(2_000)
    .withReadTimeout(5_000)
    .build();
}

export class CredentialSource {
  readonly #roles = new Map<string, Credential>();

  constructor(
    private readonly readSecret: ReadSecret,
    private readonly ramRoleProvider: RamRoleProviderFactory = ecsRamRoleProvider,
  ) {}

  /** A credential whose keys have been fetched once, so credential trouble is told apart from API errors. */
  async credentialFor(ref: CredentialsRef): Promise<Credential> {
    const credential = ref.kind === "secret" ? await this.#fromSecret(ref) : this.#fromRole(ref.roleName);
    try {
      await credential.getCredential();
    } catch (err) {
      throw failure(
        "CredentialsUnavailable",
        `${describeCredentials(ref)}: ${String((err as Error)?.message ?? err)}`,
        true,
      );
    }
    return credential;
  }

  async #fromSecret(ref: { namespace: string; name: string }): Promise<Credential> {
    let secret: V1Secret | undefined;
    try {
      secret = await this.readSecret(ref.namespace, ref.name);
    } catch (err) {
      throw failure(
        "SecretReadFailed",
        `reading ${describeCredentials({ kind: "secret", ...ref })}: ${String((err as Error)?.message ?? err)}`,
        true,
      );
    }
    const key = accessKeyOf(secret, ref);
    return new Credential(new Config({ type: "access_key", ...key }));
  }

  #fromRole(roleName: string): Credential {
    let credential = this.#roles.get(roleName);
    if (!credential) {
      let provider: CredentialsProvider;
      try {
        provider = this.ramRoleProvider(roleName);
      } catch (err) {
        // e.g. ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
        throw failure("CredentialsUnavailable", `RAM role ${roleName}: ${(err as Error).message}`, false);
      }
      credential = new Credential(null, provider);
      this.#roles.set(roleName, credential);
    }
    return credential;
  }
}
