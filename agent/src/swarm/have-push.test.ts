import type { Asker } from "../../../protocol/peer-wire";
import { Bitfield } from "../../../protocol/pieces";
import { HavePush } from "./have-push";
import type { KnownPeer } from "./swarm-view";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const ME: Asker = { peerId: "me", address: "10.0.0.1:65002", have: "gA==" };
const peer = (id: string): KnownPeer => ({
  id,
  address: `${id}:65002`,
  have: new Bitfield(4),
  banned: false,
  lastHeardMs: 0,
});

it("tells each target once at a time, shrugs off a failure and counts both", async () => {
  const calls: string[] = [];
  const counted: string[] = [];
  const answers: (() => void)[] = [];
  const push = new HavePush(
    {
      pushHave: (address, digest, asker) => {
        expect([digest, asker]).toEqual([DIGEST, ME]);
        calls.push(address);
        if (address.startsWith("down")) return Promise.reject(new Error("connection refused"));
        return new Promise<void>(resolve => answers.push(resolve));
      },
    },
    DIGEST,
    result => counted.push(result),
  );
  push.push([peer("a"), peer("b"), peer("down")], ME);
  push.push([peer("a")], ME); // a's first push is still out: skipped
  expect(calls).toEqual(["a:65002", "b:65002", "down:65002"]);
  for (const answer of answers) answer();
  await new Promise(resolve => setImmediate(resolve));
  expect(push.pending).toBe(0);
  expect(counted.sort()).toEqual(["failed", "sent", "sent"]);
  push.push([peer("a")], ME); // answered: told again
  expect(calls).toHaveLength(4);
});
