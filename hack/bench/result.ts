/** One line of `npm run bench` output: a measurement, the baseline measured in the same run, and their ratio. */
export interface BenchResult {
  scenario: string;
  metric: string;
  unit: string;
  value: number;
  baseline?: number;
  ratio?: number;
  /** What the ratio must reach, e.g. ">= 1.0" or "<= 1.15"; absent for informational lines. */
  target?: string;
  pass?: boolean;
  details?: Record<string, unknown>;
}

export type Scenario = (args: string[]) => Promise<BenchResult[]>;

export function emit(result: BenchResult): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}
