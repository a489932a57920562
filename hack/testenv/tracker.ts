/** Runs the built tracker (build/peerpull-tracker.js) as a real process on a loopback port it picks itself. */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AGENT_BIN } from "./agent";
import {
  ManagedProcess,
  boundPort,
  removeDir,
  requireListeningLogged,
  spawnLogged,
  tempDir,
  waitForHttp,
  waitForListening,
} from "./processes";

export const TRACKER_BIN = join(AGENT_BIN, "..", "peerpull-tracker.js");

export interface TrackerProcess {
  readonly url: string;
  /** The peer token file agents and the tracker share. */
  readonly tokenFile: string;
  readonly logPath: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startTrackerProcess(args: string[] = []): Promise<TrackerProcess> {
  requireListeningLogged(args, "startTrackerProcess");
  const dir = await tempDir("tracker");
  const tokenFile = join(dir, "peer-token");
  await writeFile(tokenFile, randomBytes(24).toString("hex") + "\n", { mode: 0o600 });
  const logPath = join(dir, "tracker.log");
  // PEERPULL_TRACKER_NODE_ARGS: extra node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.PEERPULL_TRACKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const argv = [...nodeArgs, TRACKER_BIN, "--listen", "127.0.0.1:0", "--peer-token-file", tokenFile, ...args];
  const proc = await spawnLogged(process.execPath, argv, { logPath });
  let url: string;
  try {
    url = `http://127.0.0.1:${boundPort(await waitForListening(proc), "listen")}`;
    await waitForHttp(`${url}/readyz`, { process: proc, statuses: [200], timeoutMs: 15_000 });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    url,
    tokenFile,
    logPath,
    process: proc,
    async stop() {
      await proc.stop();
      await removeDir(dir);
    },
  };
}
