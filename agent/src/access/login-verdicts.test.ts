import { UpstreamUnreachableError } from "../upstream/errors";
import { parseAuthorization } from "../credentials/client-credentials";
import { LoginVerdicts } from "./login-verdicts";

const alice = parseAuthorization("Basic " + Buffer.from("alice:pw").toString("base64"))!;
const a = { host: "a.test", origin: "http://a" };
const b = { host: "b.test", origin: "http://b" };

function setup(answers: Record<string, boolean | "down">) {
  const asked: string[] = [];
  let now = 0;
  const verdicts = new LoginVerdicts(
    {
      async acceptsCredentials(upstream) {
        asked.push(upstream.host);
        const answer = answers[upstream.host];
        if (answer === "down") throw new UpstreamUnreachableError("down");
        return answer;
      },
    },
    1000,
    () => now,
  );
  return { verdicts, asked, advance: (ms: number) => (now += ms) };
}

describe("LoginVerdicts", () => {
  it.each([
    { name: "one registry accepts", answers: { "a.test": false, "b.test": true }, want: "accepted" },
    { name: "all reject", answers: { "a.test": false, "b.test": false }, want: "rejected" },
    {
      name: "one rejects, one cannot be asked",
      answers: { "a.test": false, "b.test": "down" },
      want: "unreachable",
    },
    {
      name: "one accepts, one cannot be asked",
      answers: { "a.test": true, "b.test": "down" },
      want: "accepted",
    },
  ] as const)("$name", async ({ answers, want }) => {
    const t = setup(answers);
    expect(await t.verdicts.check(alice, [a, b])).toBe(want);
  });

  it("caches verdicts per credential and registry for the TTL, but not an unreachable origin", async () => {
    const t = setup({ "a.test": true, "b.test": "down" });
    await t.verdicts.check(alice, [a, b]);
    await t.verdicts.check(alice, [a, b]);
    expect(t.asked).toEqual(["a.test", "b.test", "b.test"]);
    t.advance(1000);
    await t.verdicts.check(alice, [a]);
    expect(t.asked).toHaveLength(4);
  });
});
