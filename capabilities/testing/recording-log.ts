import { MutationLog } from "../pod-mirror/handle-pod";

/** A MutationLog that keeps what it was told, for assertions. */
export class RecordingLog implements MutationLog {
  readonly lines: { level: "info" | "warn"; obj: object; msg: string }[] = [];
  info(obj: object, msg: string): void {
    this.lines.push({ level: "info", obj, msg });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: "warn", obj, msg });
  }
}
