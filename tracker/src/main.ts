/**
 * peerpull-tracker: parse flags, read the peer token, start the server, shut down gracefully on
 * SIGTERM/SIGINT. State is soft: a restarted tracker relearns every swarm from the next announces.
 */
import { exitOnConfigError, startupConfig } from "../../service-kit/cli";
import { createLogger } from "../../service-kit/log";
import { readPeerTokenFile } from "../../service-kit/token-file";
import { helpText, parseTrackerArgs } from "./config";
import { createTracker } from "./tracker";

const SHUTDOWN_GRACE_MS = 5_000;

async function main(argv: string[]): Promise<void> {
  const config = startupConfig("peerpull-tracker", () => parseTrackerArgs(argv), helpText);
  const token = exitOnConfigError("peerpull-tracker", () => readPeerTokenFile(config.peerTokenFile));
  const log = createLogger("peerpull-tracker", config.logLevel);
  const tracker = createTracker({ ...config, token, log, defaultMetrics: true });
  const address = await tracker.listen(config.listen.host, config.listen.port);
  log.info(
    {
      listen: `${address.address}:${address.port}`,
      peerTtlMs: config.peerTtlMs,
      leaseTimeoutMs: config.leaseTimeoutMs,
      maxOriginStreams: config.maxOriginStreams,
    },
    "listening",
  );
  const sweeper = setInterval(() => tracker.store.sweep(Date.now()), Math.min(config.peerTtlMs, 10_000));
  sweeper.unref();
  const stop = async (signal: string) => {
    log.info({ signal }, "shutting down");
    tracker.setReady(false);
    clearInterval(sweeper);
    await tracker.close(SHUTDOWN_GRACE_MS);
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

main(process.argv.slice(2)).catch(err => {
  process.stderr.write(`peerpull-tracker: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
