/**
 * Plays the kubelet for one container (or init container) of a rendered pod spec, as far as a
 * process needs it: the image's command (the Dockerfile links `peerpull-agent` / `peerpull-tracker`
 * to build/*.js), args with `$(VAR)` expanded from the container's env (Kubernetes rules: `$$`
 * escapes, unknown names stay as written), env from values and the downward API, and each volume
 * materialised as a directory (ConfigMap and Secret items written with their modes, emptyDir and
 * hostPath as directories; a hostPath is one directory for all of a node's pods when `hostPaths`
 * maps it) that `launchScript` bind-mounts at its mountPath inside a private mount namespace, where
 * a read-only root filesystem is played by remounting `/` (and the /etc and /var/lib overlays)
 * read-only.
 */
import { chmod, chown, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { AGENT_BIN, TRACKER_BIN } from "../../hack/netns/cluster";
import { agentNodeFlags } from "../../hack/testenv/agent";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

export interface PodContext {
  /** Downward API values, e.g. { "status.hostIP": "10.0.0.10" }. */
  fieldRefs: Record<string, string>;
  /** ConfigMaps and Secrets the volumes name, by name. */
  objects: Manifest[];
  /** Where this pod's volumes are written. */
  dir: string;
  /** hostPath volumes: the node's path -> the directory playing it (shared by the node's pods). */
  hostPaths?: Record<string, string>;
}

export interface ContainerProcess {
  argv: string[];
  env: Record<string, string>;
  mounts: { source: string; target: string; readOnly: boolean }[];
  /** From the pod's and container's securityContext. */
  user: { uid: number; gid: number; fsGroup?: number; dropAllCapabilities: boolean };
  /** securityContext.readOnlyRootFilesystem: everything but the volumes is read-only. */
  readOnlyRoot: boolean;
}

/** The image's commands as this machine runs them (read when used: the bundle may be built later). */
const IMAGE_COMMANDS: Record<string, () => string[]> = {
  "peerpull-agent": () => [process.execPath, ...agentNodeFlags(AGENT_BIN), AGENT_BIN],
  "peerpull-tracker": () => [process.execPath, TRACKER_BIN],
};

export function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) =>
    match === "$$" ? "$" : name !== undefined && name in env ? env[name] : match,
  );
}

export async function containerProcess(
  pod: V1PodSpec,
  name: string,
  ctx: PodContext,
): Promise<ContainerProcess> {
  const container = [...(pod.initContainers ?? []), ...pod.containers].find(c => c.name === name);
  if (!container) throw new Error(`no container ${name}`);
  const env = envOf(container, ctx);
  const [command, ...commandArgs] = container.command ?? [];
  const image = IMAGE_COMMANDS[command]?.();
  if (!image) throw new Error(`the image has no command ${command}`);
  const security = { ...pod.securityContext, ...container.securityContext };
  const fsGroup = pod.securityContext?.fsGroup;
  const mounts = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find(v => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} names no volume`);
    const node = volume.hostPath ? ctx.hostPaths?.[volume.hostPath.path] : undefined;
    const source = node ?? join(ctx.dir, "volumes", volume.name);
    await mkdir(source, { recursive: true });
    if (volume.configMap)
      await writeItems(
        source,
        objectNamed(ctx, "ConfigMap", volume.configMap.name!),
        volume.configMap,
        false,
      );
    if (volume.secret)
      await writeItems(source, objectNamed(ctx, "Secret", volume.secret.secretName!), volume.secret, true);
    // the kubelet gives fsGroup the volumes it manages (not hostPath), group-writable for emptyDir
    if (fsGroup !== undefined && !volume.hostPath)
      await groupOwn(source, fsGroup, volume.emptyDir ? 0o2775 : 0o2755);
    mounts.push({ source, target: mount.mountPath, readOnly: mount.readOnly === true });
  }
  return {
    argv: [...image, ...[...commandArgs, ...(container.args ?? [])].map(a => expandVars(a, env))],
    env,
    mounts,
    user: {
      uid: security.runAsUser ?? 0,
      gid: security.runAsGroup ?? 0,
      fsGroup,
      dropAllCapabilities: container.securityContext?.capabilities?.drop?.includes("ALL") === true,
    },
    readOnlyRoot: container.securityContext?.readOnlyRootFilesystem === true,
  };
}

async function groupOwn(dir: string, gid: number, dirMode: number): Promise<void> {
  await chown(dir, 0, gid);
  await chmod(dir, dirMode);
  for (const name of await readdir(dir)) await chown(join(dir, name), 0, gid);
}

function envOf(container: V1Container, ctx: PodContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else if (e.valueFrom?.fieldRef) {
      const value = ctx.fieldRefs[e.valueFrom.fieldRef.fieldPath];
      if (value === undefined) throw new Error(`no downward API value for ${e.valueFrom.fieldRef.fieldPath}`);
      env[e.name] = value;
    } else throw new Error(`env ${e.name}: only values and fieldRefs are played here`);
  }
  return env;
}

function objectNamed(ctx: PodContext, kind: string, name: string): Manifest {
  const found = ctx.objects.find(o => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} is not among the rendered objects`);
  return found;
}

async function writeItems(
  dir: string,
  object: Manifest,
  source: { items?: { key: string; path: string; mode?: number }[]; defaultMode?: number },
  base64: boolean,
): Promise<void> {
  const data: Record<string, string> = object.data ?? {};
  const items: { key: string; path: string; mode?: number }[] =
    source.items ?? Object.keys(data).map(key => ({ key, path: key }));
  for (const item of items) {
    if (!(item.key in data)) throw new Error(`${object.kind} ${object.metadata.name} has no key ${item.key}`);
    const file = join(dir, item.path);
    await writeFile(file, base64 ? Buffer.from(data[item.key], "base64") : data[item.key]);
    await chmod(file, item.mode ?? source.defaultMode ?? 0o644);
  }
}

/**
 * A bash script for `unshare --mount --propagation private`: overlays /etc and /var/lib (so mount
 * points can be made without touching the host), writes `hosts` lines (the cluster DNS names the
 * pod would resolve), bind-mounts the volumes, then execs the process with exactly its env.
 */
export function launchScript(proc: ContainerProcess, dir: string, hosts: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ["set -euo pipefail"];
  for (const [base, tag] of [
    ["/etc", "etc"],
    ["/var/lib", "varlib"],
  ]) {
    const up = join(dir, `${tag}-upper`);
    const work = join(dir, `${tag}-work`);
    lines.push(`mkdir -p ${q(up)} ${q(work)}`);
    lines.push(`mount -t overlay overlay -o lowerdir=${base},upperdir=${q(up)},workdir=${q(work)} ${base}`);
  }
  for (const line of hosts) lines.push(`echo ${q(line)} >> /etc/hosts`);
  // parents before what nests in them, as container runtimes order a container's mounts
  const byDepth = [...proc.mounts].sort((a, b) => a.target.split("/").length - b.target.split("/").length);
  for (const m of byDepth) {
    lines.push(`mkdir -p ${q(m.target)}`);
    lines.push(`mount --bind ${m.readOnly ? "-o ro " : ""}${q(m.source)} ${q(m.target)}`);
  }
  const env = Object.entries({
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ...proc.env,
  }).map(([k, v]) => q(`${k}=${v}`));
  // volumes are mounts of their own and stay writable
  if (proc.readOnlyRoot)
    lines.push("mount -o remount,bind,ro /", "mount -o remount,ro /etc", "mount -o remount,ro /var/lib");
  const { uid, gid, fsGroup, dropAllCapabilities } = proc.user;
  const setpriv = [`setpriv --reuid=${uid} --regid=${gid}`];
  setpriv.push(fsGroup === undefined ? "--clear-groups" : `--groups=${fsGroup}`);
  if (dropAllCapabilities) setpriv.push("--inh-caps=-all --bounding-set=-all");
  lines.push(`exec ${setpriv.join(" ")} -- env -i ${env.join(" ")} ${proc.argv.map(q).join(" ")}`);
  return lines.join("\n");
}
