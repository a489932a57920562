import type { Asker } from "../../../protocol/peer-wire";
import { Bitfield } from "../../../protocol/pieces";
import { HavePush, PushPacing } from "./have-push";
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
const ids = (peers: readonly KnownPeer[]) => peers.map(p => p.id);

describe("PushPacing", () => {
  it("tells a peer at most once per gap, and what it held back once the gap has passed", () => {
    const pacing = new PushPacing(1_000);
    expect(pacing.gained([peer("a"), peer("b")], 0)).toEqual({ tellNow: [peer("a"), peer("b")] });
    const held = pacing.gained([peer("a"), peer("c")], 400);
    expect(ids(held.tellNow)).toEqual(["c"]);
    expect(held.againInMs).toBe(600); // a was told at 0
    // The wake-up already asked for covers a peer due no earlier: no second one.
    expect(pacing.gained([peer("a"), peer("c")], 500)).toEqual({ tellNow: [] });
    expect(pacing.release([peer("a"), peer("b"), peer("c")], 999)).toEqual({ tellNow: [] }); // a stray wake-up
    // At the wake-up: a is owed and due, c owed and not due, b owed nothing.
    const woke = pacing.release([peer("a"), peer("b"), peer("c")], 1_000);
    expect(ids(woke.tellNow)).toEqual(["a"]);
    expect(woke.againInMs).toBe(400);
    expect(ids(pacing.release([peer("a"), peer("b"), peer("c")], 1_400).tellNow)).toEqual(["c"]);
    // Nothing owed any more: a wake-up tells no one and asks for none.
    expect(pacing.release([peer("a"), peer("b"), peer("c")], 5_000)).toEqual({ tellNow: [] });
  });

  it("drops what is owed to a peer that no longer lacks anything", () => {
    const pacing = new PushPacing(1_000);
    pacing.gained([peer("a")], 0);
    expect(pacing.gained([peer("a")], 100).againInMs).toBe(900);
    expect(pacing.release([], 1_000)).toEqual({ tellNow: [] });
    expect(pacing.release([peer("a")], 1_100)).toEqual({ tellNow: [] });
  });

  it("asks for an earlier wake-up when a peer falls due before the one asked for", () => {
    const pacing = new PushPacing(1_000);
    pacing.gained([peer("a")], 0);
    pacing.gained([peer("b")], 300);
    expect(pacing.gained([peer("b")], 400).againInMs).toBe(900);
    expect(pacing.gained([peer("a")], 500).againInMs).toBe(500);
  });

  it("tells at the wake-up it asked for, whatever the rounding of a fractional clock", () => {
    const pacing = new PushPacing(1_000);
    pacing.gained([peer("a")], 7352.56024); // the simulation's clock
    const { againInMs } = pacing.gained([peer("a")], 7400);
    const wake = 7400 + againInMs!; // 8352.560239999999: one ulp short of told + gap
    expect(ids(pacing.release([peer("a")], wake).tellNow)).toEqual(["a"]);
  });

  it("keeps a bounded memory of the peers told", () => {
    const pacing = new PushPacing(1_000);
    for (let i = 0; i < 1_000; i++) pacing.gained([peer(`p${i}`)], i * 10);
    expect(pacing.remembered).toBeLessThanOrEqual(257);
    // Those forgotten were told a gap ago or more; those still pacing are remembered.
    expect(ids(pacing.gained([peer("p0"), peer("p999")], 9_995).tellNow)).toEqual(["p0"]);
  });
});

describe("HavePush", () => {
  const audienceOf = (targets: () => KnownPeer[]) => () => ({ targets: targets(), asker: ME });

  it("tells each target once at a time, shrugs off a failure and counts both", async () => {
    const calls: string[] = [];
    const counted: string[] = [];
    const answers: (() => void)[] = [];
    let now = 0;
    let targets = [peer("a"), peer("b"), peer("down")];
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
      audienceOf(() => targets),
      result => counted.push(result),
      { gapMs: 1_000, now: () => now },
    );
    push.gained();
    now = 2_000;
    targets = [peer("a")];
    push.gained(); // a's first push is still out: skipped
    expect(calls).toEqual(["a:65002", "b:65002", "down:65002"]);
    for (const answer of answers) answer();
    await new Promise(resolve => setImmediate(resolve));
    expect(push.pending).toBe(0);
    expect(counted.sort()).toEqual(["failed", "sent", "sent"]);
    push.gained(); // answered, and the gap has passed: told again
    expect(calls).toHaveLength(4);
  });

  it("holds back a peer told within the gap and tells it, with the HAVE of then, once the gap has passed", async () => {
    const calls: string[] = [];
    let have = "gA==";
    const push = new HavePush(
      {
        pushHave: (address, _digest, asker) => {
          calls.push(`${address} ${asker.have}`);
          return Promise.resolve();
        },
      },
      DIGEST,
      () => ({ targets: [peer("a")], asker: { ...ME, have } }),
      undefined,
      { gapMs: 30 },
    );
    push.gained();
    await new Promise(resolve => setImmediate(resolve));
    have = "wA==";
    push.gained();
    have = "4A==";
    push.gained();
    expect(calls).toEqual(["a:65002 gA=="]);
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(calls).toEqual(["a:65002 gA==", "a:65002 4A=="]);
  });

  it("tells nothing more once stopped", async () => {
    let calls = 0;
    const push = new HavePush(
      {
        pushHave: () => {
          calls++;
          return Promise.resolve();
        },
      },
      DIGEST,
      audienceOf(() => [peer("a")]),
      undefined,
      { gapMs: 20 },
    );
    push.gained();
    await new Promise(resolve => setImmediate(resolve));
    push.gained();
    push.stop();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(calls).toBe(1);
  });
});
