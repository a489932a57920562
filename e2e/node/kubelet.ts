/**
 * The kubelet's image pull for a pod, against a real containerd's CRI ImageService: the pod's
 * `imagePullSecrets` are read from the (in-memory) API, a secret that does not exist is skipped
 * as kubelet does (with a warning, the pull goes on), the keyring picks the credentials for each
 * image (`kubelet-keyring.ts`), and PullImage is called with each in order until one succeeds, or
 * once without credentials when none matches. The auth carries no server address, as for secrets.
 */
import { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { Containerd } from "../../hack/testenv/containerd";
import type { MirrorCluster } from "../../capabilities/pod-mirror/cluster";
import { credentialsFor, keyringFromSecrets } from "./kubelet-keyring";
import { podImages } from "./workload";

export interface ImagePull {
  image: string;
  /** The keyring keys of the credentials tried, in order ([] = anonymous). */
  triedKeys: string[];
  /** CRI image_ref (the image's config digest) when the pull succeeded. */
  imageRef?: string;
  /** Every attempt's error when none succeeded. */
  errors: string[];
}

export async function pullPodImages(
  pod: V1Pod,
  api: Pick<MirrorCluster, "readSecret">,
  cri: Pick<Containerd, "criPullImage">,
): Promise<ImagePull[]> {
  const namespace = pod.metadata?.namespace ?? "default";
  const secrets: V1Secret[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const secret = ref.name ? await api.readSecret(namespace, ref.name) : undefined;
    if (secret) secrets.push(secret);
  }
  const keyring = keyringFromSecrets(secrets);
  const pulls: ImagePull[] = [];
  for (const image of new Set(podImages(pod))) {
    const creds = credentialsFor(keyring, image);
    const pull: ImagePull = { image, triedKeys: creds.map(c => c.key), errors: [] };
    for (const auth of creds.length > 0 ? creds : [undefined]) {
      try {
        pull.imageRef = await cri.criPullImage({
          image,
          auth: auth && { username: auth.username, password: auth.password },
          timeoutMs: 120_000,
        });
        pull.errors = [];
        break;
      } catch (err) {
        pull.errors.push((err as Error).message);
      }
    }
    pulls.push(pull);
  }
  return pulls;
}
