/**
 * `npm run demo`: N nodes pull one generated image, first every node straight from the registry,
 * then every node through its peerpull agent, with live progress, a summary table and an SVG chart.
 * As root the nodes are network namespaces with shaped links (hack/netns); otherwise, or with
 * --loopback, processes on 127.0.0.1 with a throttled registry (and it says what differs).
 * Ctrl-C at any point stops everything it started.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildImage } from "../testenv/oci-image";
import { Teardown } from "../testenv/processes";
import { DemoOptions, parseDemoArgs, USAGE } from "./args";
import { renderChart } from "./chart";
import { LiveDisplay } from "./display";
import { DemoEnv } from "./env";
import { startLoopbackEnv } from "./loopback-env";
import { layerSizes, MiB, PHASE_TITLES, PhaseResult } from "./model";
import { startNetnsEnv } from "./netns-env";
import { runPhase } from "./phase";
import { seconds } from "./progress-format";
import { stopAllPulls } from "./pull";
import { DemoSummary, renderSummary, summarize } from "./summary";

const out = process.stdout;
const say = (line = "") => out.write(line + "\n");

async function main(argv: string[], session: Session): Promise<void> {
  const parsed = parseDemoArgs(argv);
  if (parsed.kind === "help") return void say(USAGE);
  if (parsed.kind === "error") {
    process.stderr.write(`demo: ${parsed.message}\n`);
    process.exit(2);
  }
  const opts = parsed.options;
  const { display } = session;

  const netnsProblem = opts.loopback ? "--loopback" : whyNoNetns();
  say(`peerpull demo: ${opts.nodes} nodes pull a ${opts.sizeMiB} MiB image over ${opts.mbit} Mbit/s links`);
  const env = await session.step(`starting a registry, a tracker and ${opts.nodes} agents`, () =>
    session.owns(
      netnsProblem
        ? startLoopbackEnv({ nodes: opts.nodes, mbit: opts.mbit, why: netnsProblem })
        : startNetnsEnv({ nodes: opts.nodes, mbit: opts.mbit }),
      started => started.stop(),
    ),
  );
  for (const note of env.notes) say(`  ${note}`);

  const layers = layerSizes(opts.sizeMiB * MiB);
  const layout = await session.step(
    `building a ${opts.sizeMiB} MiB image (${layers.length} layers) and pushing it`,
    async () => {
      const built = await session.owns(buildImage({ layers, seed: `peerpull-demo-${Date.now()}` }), b =>
        b.remove(),
      );
      await env.pushImage(built);
      return built;
    },
  );
  const imageBytes = layout.config.size + layout.layers.reduce((sum, l) => sum + l.size, 0);

  const phases: PhaseResult[] = [];
  for (const [i, name] of (["direct", "peerpull"] as const).entries()) {
    say(
      `\n${i + 1}/2  every node pulls ${name === "direct" ? "straight from the registry" : "through its peerpull agent"}`,
    );
    phases.push(await runPhase(env, name, imageBytes, display));
  }
  const summary = summarize(imageBytes, phases[0], phases[1]);
  say("");
  say(renderSummary(summary));

  const dir = opts.out ? resolve(opts.out) : await mkdtemp(join(tmpdir(), "peerpull-demo-"));
  await mkdir(dir, { recursive: true });
  const chartPath = join(dir, "chart.svg");
  await writeFile(chartPath, chart(opts, env, summary, phases));
  await writeFile(
    join(dir, "summary.json"),
    JSON.stringify({ mode: env.kind, ...opts, summary }, null, 2) + "\n",
  );
  say("");
  say(`chart:   ${chartPath}`);
  say(`summary: ${join(dir, "summary.json")}`);

  if (opts.keep) {
    say("");
    say(
      `--keep: everything is still running. Pull the image yourself${env.kind === "netns" ? " (as root)" : ""}:`,
    );
    for (const command of env.keepCommands()) say(`  $ ${command}`);
    say(`logs: ${env.logHint}`);
    say("Ctrl-C stops everything the demo started.");
    session.keeping = true;
    await new Promise(() => undefined);
  }
}

function chart(opts: DemoOptions, env: DemoEnv, summary: DemoSummary, phases: PhaseResult[]): string {
  const where = env.kind === "netns" ? "network namespaces, tc tbf" : "loopback, throttled registry";
  const notes = {
    direct: `last node ${seconds(summary.direct.lastNodeMs)}, registry served ${summary.direct.registryImages.toFixed(2)}x the image`,
    peerpull: `last node ${seconds(summary.peerpull.lastNodeMs)}, registry served ${summary.peerpull.registryImages.toFixed(2)}x the image`,
  };
  return renderChart({
    title: `peerpull demo: ${opts.nodes} nodes pull a ${opts.sizeMiB} MiB image, ${faster(summary.speedup)} through peerpull`,
    subtitle: `every node's and the registry's upload ${opts.mbit} Mbit/s (${where}); progress of each node's pull over time`,
    panels: phases.map(p => ({ title: PHASE_TITLES[p.name], note: notes[p.name], lines: p.nodes })),
  });
}

function faster(speedup: number): string {
  return speedup >= 1 ? `${speedup.toFixed(2)}x faster` : `${(1 / speedup).toFixed(2)}x slower`;
}

/** Why the demo cannot use network namespaces here, or undefined when it can. */
function whyNoNetns(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore", timeout: 10_000 });
    execFileSync("tc", ["-V"], { stdio: "ignore", timeout: 10_000 });
    return undefined;
  } catch {
    return "ip netns or tc does not run";
  }
}

/** What the demo started, and the one way out: finished, failed, or Ctrl-C (SIGTERM) at any moment. */
class Session {
  readonly teardown = new Teardown();
  readonly display = new LiveDisplay(out);
  /** --keep after the summary: Ctrl-C is how the demo is meant to end (exit 0). */
  keeping = false;
  #ending = false;

  constructor() {
    const onSignal = (signal: NodeJS.Signals) =>
      this.end(
        this.keeping ? 0 : signal === "SIGINT" ? 130 : 143,
        `\n${signal}: stopped; everything the demo started is gone`,
      );
    process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  }

  /**
   * `starting` will need `stop` once it resolves; registered before it does, so a Ctrl-C in the
   * middle of starting it still stops it (the teardown waits for the start to finish).
   */
  owns<T>(starting: Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
    this.teardown.add(async () => {
      const started = await starting.catch(() => undefined);
      if (started !== undefined) await stop(started);
    });
    return starting;
  }

  /** "what ... done (1.2 s)"; once the demo is ending, never returns (nothing more starts). */
  async step<T>(what: string, work: () => Promise<T>): Promise<T> {
    out.write(`${what} ... `);
    const started = performance.now();
    const result = await work();
    if (this.#ending) return new Promise<T>(() => undefined);
    say(`done (${seconds(performance.now() - started)})`);
    return result;
  }

  /** Stops the pulls and tears everything down, then exits with `code`. */
  end(code: number, message?: string): void {
    if (this.#ending) return;
    this.#ending = true;
    this.display.abort();
    stopAllPulls();
    void this.teardown
      .run()
      .then(
        () => message && process.stderr.write(message + "\n"),
        err =>
          process.stderr.write(
            `${message ?? "demo"}; some of the teardown failed: ${(err as Error).message}\n`,
          ),
      )
      .finally(() => process.exit(code));
  }
}

const session = new Session();
main(process.argv.slice(2), session).then(
  () => session.end(0),
  err => session.end(1, `demo: ${(err as Error)?.message ?? err}`),
);
