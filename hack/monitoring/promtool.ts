/** Runs Debian's promtool (`check rules`, `test rules`) and reports its verdict with its output. */
import { copyFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { run } from "../testenv/processes";
import { ruleFileText, type RuleFile } from "./prometheus-rule";

export interface PromtoolResult {
  ok: boolean;
  output: string;
}

/** The name unit-test files list under `rule_files:`. */
export const RULES_FILE_NAME = "peerpull-rules.yaml";

async function promtool(args: string[], cwd?: string): Promise<PromtoolResult> {
  try {
    const { stdout, stderr } = await run("promtool", args, { timeoutMs: 60_000, cwd });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    if (e.stdout === undefined && e.stderr === undefined) throw err; // promtool missing or killed
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** Writes the rule file into `dir` and runs `promtool check rules` on it. */
export async function checkRules(
  dir: string,
  file: RuleFile,
  name = RULES_FILE_NAME,
): Promise<PromtoolResult> {
  const path = join(dir, name);
  await writeFile(path, ruleFileText(file));
  return promtool(["check", "rules", path]);
}

/**
 * Writes the rule file into `dir` as RULES_FILE_NAME, copies the unit-test files beside it (they
 * name it relative to themselves) and runs `promtool test rules` on them.
 */
export async function testRules(dir: string, file: RuleFile, testFiles: string[]): Promise<PromtoolResult> {
  await writeFile(join(dir, RULES_FILE_NAME), ruleFileText(file));
  const copies: string[] = [];
  for (const test of testFiles) {
    const copy = join(dir, basename(test));
    await copyFile(test, copy);
    copies.push(basename(test));
  }
  return promtool(["test", "rules", ...copies], dir);
}
