import { DEFAULTS, parseDemoArgs } from "./args";

describe("parseDemoArgs parses", () => {
  const rows: { name: string; argv: string[]; expected: object }[] = [
    { name: "nothing: the defaults", argv: [], expected: { ...DEFAULTS } },
    {
      name: "every option",
      argv: ["--nodes", "4", "--mbit", "25.5", "--size", "8", "--keep", "--loopback", "--out", "/tmp/x"],
      expected: { nodes: 4, mbit: 25.5, sizeMiB: 8, keep: true, loopback: true, out: "/tmp/x" },
    },
    {
      name: "--flag=value",
      argv: ["--nodes=3", "--size=2.5"],
      expected: { ...DEFAULTS, nodes: 3, sizeMiB: 2.5 },
    },
    {
      name: "limits are inclusive",
      argv: ["--nodes", "2", "--mbit", "1"],
      expected: { ...DEFAULTS, nodes: 2, mbit: 1 },
    },
  ];
  it.each(rows)("$name", ({ argv, expected }) => {
    expect(parseDemoArgs(argv)).toEqual({ kind: "run", options: expected });
  });

  it("--help and -h ask for the usage", () => {
    expect(parseDemoArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseDemoArgs(["--nodes", "3", "-h"])).toEqual({ kind: "help" });
  });
});

describe("parseDemoArgs rejects", () => {
  const rows: { name: string; argv: string[]; message: RegExp }[] = [
    { name: "a stray word", argv: ["banana"], message: /^unexpected argument "banana"/ },
    { name: "the old positional node count", argv: ["3"], message: /^unexpected argument "3"/ },
    { name: "an unknown option", argv: ["--fast"], message: /^unknown option --fast/ },
    { name: "a missing value", argv: ["--nodes"], message: /^--nodes needs a value/ },
    { name: "a flag as a value", argv: ["--nodes", "--keep"], message: /^--nodes needs a value/ },
    {
      name: "a word for a number",
      argv: ["--nodes", "six"],
      message: /^--nodes expects a whole number, got "six"/,
    },
    { name: "a fraction of a node", argv: ["--nodes", "2.5"], message: /^--nodes expects a whole number/ },
    { name: "a negative rate", argv: ["--mbit", "-5"], message: /^--mbit expects a number, got "-5"/ },
    { name: "zero rate", argv: ["--mbit", "0"], message: /^--mbit must be between 1 and 10000, got 0/ },
    { name: "too many nodes", argv: ["--nodes", "51"], message: /^--nodes must be between 2 and 50/ },
    { name: "one node", argv: ["--nodes", "1"], message: /^--nodes must be between 2 and 50/ },
    { name: "a size with a unit", argv: ["--size", "100M"], message: /^--size expects a number, got "100M"/ },
    { name: "infinity", argv: ["--size", "1e999"], message: /^--size expects a number/ },
    { name: "a value for a switch", argv: ["--keep=yes"], message: /^--keep takes no value/ },
    { name: "a repeated option", argv: ["--nodes", "3", "--nodes", "4"], message: /^--nodes given twice/ },
    { name: "an empty --out", argv: ["--out="], message: /^--out needs a directory/ },
  ];
  it.each(rows)("$name", ({ argv, message }) => {
    const parsed = parseDemoArgs(argv);
    expect(parsed.kind).toBe("error");
    const text = (parsed as { message: string }).message;
    expect(text).toMatch(message);
    expect(text).not.toContain("\n");
    expect(text).toContain("--help");
  });
});
