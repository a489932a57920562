/**
 * peerpull-tracker: parse flags, read the peer token, start the server, shut down gracefully on
 * SIGTERM/SIGINT. State is soft: a restarted tracker relearns every swarm from the next announces.
 */
import { readFileSync } from "node:fs";
import { ConfigError, TrackerConfig, helpText, parseTrackerArgs } from "./config";
import { createLogger } from "./log";
import { createTracker } from "./tracker";

const SHUTDOWN_GRACE_MS = 5_000;

async function main(argv: string[]): Promise<void> {
  const config = readConfig(argv);
  const token = readToken(config.peerTokenFile);
  const log = createLogger(config.logLevel);
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

function fail(message: string): never {
  process.stderr.write(`peerpull-tracker: ${message}\n`);
  process.exit(2);
}

function readConfig(argv: string[]): TrackerConfig {
  try {
    const cli = parseTrackerArgs(argv);
    if (cli.help) {
      process.stdout.write(helpText() + "\n");
      process.exit(0);
    }
    return cli.config;
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

function readToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, "utf8").trim();
  } catch (err) {
    fail(`--peer-token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  if (token.length < 16) fail(`--peer-token-file: ${file} holds fewer than 16 characters`);
  return token;
}

main(process.argv.slice(2)).catch(err => {
  process.stderr.write(`peerpull-tracker: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
