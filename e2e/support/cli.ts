/** What every built binary answers before it reads any setting: -h/--help and --version. */
import { version } from "../../package.json";
import { runNodeScript } from "../../hack/testenv/processes";

export function itAnswersHelpAndVersion(script: string, program: string, listed: readonly string[]): void {
  it.each([["--help"], ["-h"]])(`prints help for %s and exits 0`, async flag => {
    const { code, stdout } = await runNodeScript(script, [flag]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: ${program}`));
    for (const flag of [...listed, "--help", "--version"]) expect(stdout).toContain(flag);
  });

  it("prints its version and exits 0", async () => {
    expect(await runNodeScript(script, ["--version"])).toEqual({
      code: 0,
      stdout: `${program} ${version}\n`,
      stderr: "",
    });
  });
}
