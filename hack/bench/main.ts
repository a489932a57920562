/**
 * `npm run bench -- <scenario> [args]`: prints one JSON line per result, each with the baseline
 * measured in the same run and the ratio. No scenario: every scenario.
 */
import { coldBench, memoryBench, serveBench } from "./agent-bench";
import { coldLinkBench } from "./cold-link-bench";
import { loneBench } from "./lone-bench";
import { BenchResult, emit, Scenario } from "./result";
import { swarmBench } from "./swarm-bench";
import { trackerBench } from "./tracker-bench";

const scenarios: Record<string, Scenario> = {
  serve: serveBench,
  cold: coldBench,
  "cold-link": coldLinkBench,
  memory: memoryBench,
  swarm: swarmBench,
  lone: loneBench,
  tracker: trackerBench,
  // Loaded on demand: it brings pepr, which logs on import.
  webhook: async args => (await import("./webhook")).webhookBench(args),
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === "--help" || (name && !scenarios[name])) {
    process.stderr.write(`usage: npm run bench -- [${Object.keys(scenarios).join("|")}] [args]\n`);
    process.exit(name === "--help" ? 0 : 2);
  }
  const names = name ? [name] : Object.keys(scenarios);
  let failed = false;
  for (const scenario of names) {
    const results: BenchResult[] = await scenarios[scenario](args);
    for (const result of results) {
      emit(result);
      if (result.pass === false) failed = true;
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main(process.argv.slice(2)).catch(err => {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
