import {
  absolutePath,
  boolean,
  byteRate,
  byteSize,
  duration,
  hostPort,
  httpUrl,
  integer,
  listOf,
  logLevel,
  text,
} from "./config-parsers";

const parses: { name: string; parse: (value: unknown) => unknown; value: unknown; want: unknown }[] = [
  {
    name: "host and port",
    parse: hostPort,
    value: "127.0.0.1:65001",
    want: { host: "127.0.0.1", port: 65001 },
  },
  {
    name: "port 0 (any free port)",
    parse: hostPort,
    value: "127.0.0.1:0",
    want: { host: "127.0.0.1", port: 0 },
  },
  { name: "IPv6 host", parse: hostPort, value: "[::]:7000", want: { host: "::", port: 7000 } },
  { name: "duration with units", parse: duration(), value: "1h30m", want: 5_400_000 },
  { name: "duration as plain ms", parse: duration(), value: "250", want: 250 },
  { name: "duration as a YAML number", parse: duration(), value: 250, want: 250 },
  { name: "zero duration where allowed", parse: duration(), value: "0s", want: 0 },
  { name: "size with a suffix", parse: byteSize(), value: "512M", want: 512 * 1024 * 1024 },
  { name: "rate with /s", parse: byteRate, value: "1G/s", want: 1024 ** 3 },
  { name: "integer as text", parse: integer(0, 20), value: "4", want: 4 },
  { name: "integer as a YAML number", parse: integer(0, 20), value: 20, want: 20 },
  { name: "boolean as text", parse: boolean, value: "false", want: false },
  { name: "boolean", parse: boolean, value: true, want: true },
  { name: "log level", parse: logLevel, value: "debug", want: "debug" },
  { name: "absolute path", parse: absolutePath, value: "/etc/x", want: "/etc/x" },
  { name: "URL without trailing slashes", parse: httpUrl, value: "http://t:1//", want: "http://t:1" },
  { name: "one value as a list", parse: listOf(text), value: "a", want: ["a"] },
  { name: "nothing as an empty list", parse: listOf(text), value: undefined, want: [] },
];

const rejects: { name: string; parse: (value: unknown) => unknown; value: unknown; reason: RegExp }[] = [
  { name: "host with an empty port", parse: hostPort, value: "host:", reason: /expected HOST:PORT/ },
  { name: "no host", parse: hostPort, value: ":80", reason: /expected HOST:PORT/ },
  { name: "port out of range", parse: hostPort, value: "h:65536", reason: /expected HOST:PORT/ },
  { name: "port in hex", parse: hostPort, value: "h:0x50", reason: /expected HOST:PORT/ },
  { name: "negative duration", parse: duration(), value: "-5s", reason: /^must not be negative, got "-5s"$/ },
  { name: "duration in words", parse: duration(), value: "soon", reason: /invalid duration "soon"/ },
  {
    name: "duration under its minimum",
    parse: duration({ min: 1000 }),
    value: "10ms",
    reason: /must be at least 1s/,
  },
  {
    name: "duration over its maximum",
    parse: duration({ min: 1000, max: 86_400_000 }),
    value: "2d",
    reason: /must be from 1s to 24h/,
  },
  { name: "negative size", parse: byteSize(), value: "-1M", reason: /must not be negative/ },
  {
    name: "size under its minimum",
    parse: byteSize({ min: 1024 }),
    value: "1",
    reason: /at least 1024 bytes/,
  },
  { name: "zero rate", parse: byteRate, value: "0", reason: /must be greater than 0/ },
  {
    name: "fractional integer",
    parse: integer(0, 20),
    value: "2.5",
    reason: /expected an integer from 0 to 20/,
  },
  { name: "integer in hex", parse: integer(0, 20), value: "0x10", reason: /expected an integer/ },
  { name: "integer out of range", parse: integer(1, 4), value: "5", reason: /from 1 to 4, got "5"/ },
  { name: "boolean as yes", parse: boolean, value: "yes", reason: /expected true or false/ },
  { name: "unknown log level", parse: logLevel, value: "loud", reason: /expected one of trace, debug/ },
  { name: "relative path", parse: absolutePath, value: "certs.d", reason: /absolute path/ },
  { name: "ftp URL", parse: httpUrl, value: "ftp://x", reason: /expected an http\(s\) URL/ },
  { name: "empty text", parse: text, value: "", reason: /non-empty string/ },
  { name: "an object as text", parse: text, value: { a: 1 }, reason: /non-empty string/ },
];

describe("config parsers", () => {
  it.each(parses)("parses $name", ({ parse, value, want }) => {
    expect(parse(value)).toEqual(want);
  });

  it.each(rejects)("rejects $name", ({ parse, value, reason }) => {
    expect(() => parse(value)).toThrow(reason);
  });
});
