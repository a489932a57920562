/**
 * The live view while a phase runs. On a terminal: one line per node, redrawn in place. Anywhere
 * else (a pipe, a file, CI): plain milestone lines, no escape codes.
 */
import { NodeProgress, PhaseName } from "./model";
import { Milestones, milestoneLines, nodeLine } from "./progress-format";

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

const UP = (n: number) => `\x1b[${n}A`;
const CLEAR_LINE = "\x1b[2K";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

export class LiveDisplay {
  #drawn = 0;
  #seen: Milestones[] = [];
  #phase: PhaseName = "direct";
  #active = false;

  constructor(private readonly out: Output) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  begin(phase: PhaseName, nodes: readonly NodeProgress[]): void {
    this.#phase = phase;
    this.#drawn = 0;
    this.#seen = nodes.map(() => ({ half: false, done: false }));
    this.#active = true;
    if (this.tty) this.out.write(HIDE_CURSOR);
  }

  update(nodes: readonly NodeProgress[], nowMs: number): void {
    if (this.tty) return this.#redraw(nodes, nowMs);
    nodes.forEach((node, i) => {
      const { lines, seen } = milestoneLines(this.#seen[i], node, this.#phase);
      this.#seen[i] = seen;
      for (const line of lines) this.out.write(line + "\n");
    });
  }

  end(nodes: readonly NodeProgress[], nowMs: number): void {
    this.update(nodes, nowMs);
    this.#active = false;
    if (this.tty) this.out.write(SHOW_CURSOR);
  }

  /** Puts the cursor back when a phase is cut short (Ctrl-C, a failed pull). */
  abort(): void {
    if (this.#active && this.tty) this.out.write(`${SHOW_CURSOR}\n`);
    this.#active = false;
  }

  #redraw(nodes: readonly NodeProgress[], nowMs: number): void {
    const width = Math.max(...nodes.map(n => n.name.length));
    const lines = nodes.map(node => CLEAR_LINE + nodeLine(node, this.#phase, nowMs, width));
    this.out.write((this.#drawn > 0 ? UP(this.#drawn) + "\r" : "") + lines.join("\n") + "\n");
    this.#drawn = lines.length;
  }
}
