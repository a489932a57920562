import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../protocol/config-table";
import { readPeerTokenFile } from "./token-file";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "pp-token-file-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(content: string): string {
  const file = join(dir, `token-${content.length}`);
  writeFileSync(file, content);
  return file;
}

describe("readPeerTokenFile", () => {
  it("reads the token without the file's trailing newline", () => {
    expect(readPeerTokenFile(tokenFile("0123456789abcdef-xyz\n"))).toBe("0123456789abcdef-xyz");
  });

  const refuses = [
    {
      name: "a missing file",
      file: () => join(dir, "missing"),
      problem: /^--peer-token-file: cannot read .*missing: ENOENT$/,
    },
    { name: "a directory", file: () => dir, problem: /^--peer-token-file: cannot read .*: EISDIR$/ },
    {
      name: "a short token",
      file: () => tokenFile("short\n"),
      problem: /^--peer-token-file: .*: the token must have at least 16 characters, it has 5$/,
    },
    { name: "an empty file", file: () => tokenFile(""), problem: /it has 0$/ },
  ];
  it.each(refuses)("refuses $name with a ConfigError naming the setting", ({ file, problem }) => {
    let thrown: unknown;
    try {
      readPeerTokenFile(file());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(problem);
  });
});
