import { LiveDisplay, Output } from "./display";
import { MiB, NodeProgress } from "./model";

function recorder(isTTY: boolean): Output & { text: string } {
  const out = { isTTY, text: "", write: (t: string) => (out.text += t) };
  return out;
}

const nodes = (received: number[], done: Array<number | undefined> = []): NodeProgress[] =>
  received.map((r, i) => ({
    name: `node ${i + 1}`,
    total: 10 * MiB,
    received: r,
    fromRegistry: r,
    fromPeers: 0,
    doneMs: done[i],
    samples: [[0, 0]],
  }));

describe("LiveDisplay", () => {
  it("on a terminal: one line per node, redrawn in place, cursor hidden then shown", () => {
    const out = recorder(true);
    const display = new LiveDisplay(out);
    display.begin("direct", nodes([0, 0]));
    display.update(nodes([MiB, 2 * MiB]), 500);
    display.update(nodes([3 * MiB, 4 * MiB]), 1000);
    display.end(nodes([10 * MiB, 10 * MiB], [1500, 1600]), 1600);
    expect(out.text.startsWith("\x1b[?25l")).toBe(true);
    expect(out.text.split("\x1b[2A\r")).toHaveLength(3);
    expect(out.text.match(/node 1 /g)).toHaveLength(3);
    expect(out.text).toContain("done   1.5 s");
    expect(out.text.endsWith("\x1b[?25h")).toBe(true);
  });

  it("elsewhere: plain milestone lines, no escape codes", () => {
    const out = recorder(false);
    const display = new LiveDisplay(out);
    display.begin("direct", nodes([0, 0]));
    display.update(nodes([6 * MiB, MiB]), 500);
    display.update(nodes([7 * MiB, 2 * MiB]), 700);
    display.end(nodes([10 * MiB, 10 * MiB], [900, 1200]), 1200);
    expect(out.text).toBe(
      [
        "  node 1: half way",
        "  node 1: done in 0.9 s (registry 10.0 MiB)",
        "  node 2: done in 1.2 s (registry 10.0 MiB)",
        "",
      ].join("\n"),
    );
  });

  it("abort puts the cursor back only in the middle of a phase", () => {
    const out = recorder(true);
    const display = new LiveDisplay(out);
    display.abort();
    expect(out.text).toBe("");
    display.begin("peerpull", nodes([0]));
    display.abort();
    expect(out.text.endsWith("\x1b[?25h\n")).toBe(true);
  });
});
