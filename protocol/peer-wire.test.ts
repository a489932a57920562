import { askerOf } from "./peer-wire";

const HAVE = "wA==";
const headers = (over: Record<string, string | undefined> = {}) => ({
  "x-peerpull-peer-id": "agent-0123456789abcdef",
  "x-peerpull-peer-address": "10.0.0.7:65002",
  "x-peerpull-have": HAVE,
  ...over,
});

describe("askerOf: the sender a peer request describes", () => {
  it("takes a well-formed claim from the host it names", () => {
    expect(askerOf(headers(), "10.0.0.7")).toEqual({
      peerId: "agent-0123456789abcdef",
      address: "10.0.0.7:65002",
      have: HAVE,
    });
  });

  it("reads an IPv4-mapped source as IPv4", () => {
    expect(askerOf(headers(), "::ffff:10.0.0.7")?.address).toBe("10.0.0.7:65002");
  });

  it.each([
    {
      name: "no headers",
      over: {
        "x-peerpull-peer-id": undefined,
        "x-peerpull-peer-address": undefined,
        "x-peerpull-have": undefined,
      },
    },
    {
      name: "another host than the source (it would aim this node's requests elsewhere)",
      over: { "x-peerpull-peer-address": "10.0.0.8:65002" },
    },
    { name: "port 0", over: { "x-peerpull-peer-address": "10.0.0.7:0" } },
    { name: "port past 65535", over: { "x-peerpull-peer-address": "10.0.0.7:65536" } },
    { name: "no port", over: { "x-peerpull-peer-address": "10.0.0.7" } },
    { name: "a peer id with a newline", over: { "x-peerpull-peer-id": "agent\nx" } },
    { name: "an overlong peer id", over: { "x-peerpull-peer-id": "a".repeat(129) } },
    { name: "a HAVE that is not base64", over: { "x-peerpull-have": "not base64!" } },
    { name: "a huge HAVE", over: { "x-peerpull-have": "A".repeat(200_000) } },
  ])("refuses $name", ({ over }) => {
    expect(askerOf(headers(over), "10.0.0.7")).toBeUndefined();
  });
});
