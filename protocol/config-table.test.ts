import { duration, integer, listOf, text } from "./config-parsers";
import { ConfigError, helpText, parseSettings, readArgs, settingsFromKeys } from "./config-table";

const TABLE = {
  name: { flag: "name", key: "name", short: "n", help: "a name", required: true, parse: text },
  wait: { flag: "wait", key: "waitFor", help: "how long", default: "1s", parse: duration({ min: 1 }) },
  count: { flag: "count", key: "count", help: "how many", parse: integer(1, 9) },
  tags: { flag: "tag", key: "tags", help: "tags", multiple: true, parse: listOf(text) },
  file: { flag: "file", help: "flag only", parse: text },
};

function given(argv: string[]) {
  const command = readArgs(argv, TABLE);
  if (command.action !== "run") throw new Error(command.action);
  return command.given;
}

function argsProblem(argv: string[]): string {
  try {
    readArgs(argv, TABLE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("no ConfigError");
}

describe("readArgs", () => {
  const reads = [
    { name: "a long flag", argv: ["--name", "x"], want: { name: "x" } },
    { name: "a short flag", argv: ["-n", "x"], want: { name: "x" } },
    { name: "flag=value", argv: ["--count=3"], want: { count: "3" } },
    { name: "a repeated flag", argv: ["--tag", "a", "--tag", "b"], want: { tags: ["a", "b"] } },
    { name: "a value that starts with a dash", argv: ["--wait", "-5s"], want: { wait: "-5s" } },
    { name: "a short flag's dash value", argv: ["-n", "-x"], want: { name: "-x" } },
  ];
  it.each(reads)("reads $name", ({ argv, want }) => {
    expect(given(argv)).toEqual(want);
  });

  it("answers -h, --help and --version before anything else", () => {
    expect(readArgs(["-h"], TABLE)).toEqual({ action: "help" });
    expect(readArgs(["--help", "--count", "banana"], TABLE)).toEqual({ action: "help" });
    expect(readArgs(["--version"], TABLE)).toEqual({ action: "version" });
  });

  const refuses = [
    { name: "an unknown flag", argv: ["--bogus", "1"], problem: "--bogus: unknown flag (--help lists them)" },
    { name: "a positional argument", argv: ["stray"], problem: "stray: unexpected argument (flags only)" },
    { name: "a flag at the end without its value", argv: ["--name"], problem: "--name: needs a value" },
    {
      name: "a flag followed by another flag",
      argv: ["--name", "--count", "1"],
      problem: "--name: needs a value",
    },
  ];
  it.each(refuses)("refuses $name", ({ argv, problem }) => {
    expect(argsProblem(argv)).toBe(problem);
  });
});

describe("parseSettings", () => {
  it("parses what is given, fills defaults and leaves the rest undefined", () => {
    const { settings, problems } = parseSettings(TABLE, { name: "x", tags: ["a"] }, "flag");
    expect(problems).toEqual([]);
    expect(settings).toEqual({ name: "x", wait: 1000, tags: ["a"] });
  });

  it("names every problem as a flag or as a file key", () => {
    const bad = { wait: "-1s", count: "10" };
    expect(parseSettings(TABLE, bad, "flag").problems).toEqual([
      "--name: required",
      '--wait: must not be negative, got "-1s"',
      '--count: expected an integer from 1 to 9, got "10"',
    ]);
    expect(parseSettings(TABLE, bad, "key").problems).toEqual([
      "name: required",
      'waitFor: must not be negative, got "-1s"',
      'count: expected an integer from 1 to 9, got "10"',
    ]);
  });
});

describe("settingsFromKeys", () => {
  it("maps file keys to table names and refuses keys it does not know, flag-only ones included", () => {
    expect(settingsFromKeys(TABLE, { waitFor: "2s", tags: ["a"], file: "/x", waitfor: 1 })).toEqual({
      given: { wait: "2s", tags: ["a"] },
      problems: ["file: unknown field", "waitfor: unknown field"],
    });
  });
});

describe("helpText", () => {
  it("lists every flag with its default, and the built-in ones", () => {
    const help = helpText(TABLE, { usage: "prog [flags]", about: ["What it is."] });
    expect(help.split("\n").slice(0, 3)).toEqual(["Usage: prog [flags]", "", "What it is."]);
    for (const line of [
      "-n, --name VALUE",
      "--wait VALUE",
      "[default: 1s]",
      "--tag VALUE (repeatable)",
      "-h, --help",
      "--version",
    ])
      expect(help).toContain(line);
  });
});
