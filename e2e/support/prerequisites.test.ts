import { missingPrerequisite } from "./prerequisites";

describe("missingPrerequisite", () => {
  it("accepts a command that runs", () => {
    expect(missingPrerequisite({ commands: [["true"]] })).toBeUndefined();
  });

  it("says a command is not installed", () => {
    expect(missingPrerequisite({ commands: [["peerpull-no-such-command", "--version"]] })).toBe(
      "`peerpull-no-such-command --version` does not run: not installed (bash hack/install-deps.sh)",
    );
  });

  it("says how a command failed, with the last line it wrote to stderr", () => {
    expect(
      missingPrerequisite({ commands: [["sh", "-c", "echo first >&2; echo broken >&2; exit 3"]] }),
    ).toMatch(/does not run: exit code 3: broken \(/);
  });

  it("names the first missing file and the step that makes it", () => {
    expect(
      missingPrerequisite({ files: [{ path: "/nonexistent/peerpull", madeBy: "npx pepr build" }] }),
    ).toBe("/nonexistent/peerpull is missing (npx pepr build)");
  });
});
