// The progress bar of `paraplan profile`: one line on stderr, redrawn in place, only on a
// terminal (a pipe or a log gets nothing, so that stdout and stderr stay clean).

export interface BarSink {
  write(text: string): unknown;
  columns?: number;
}

const PHASES = ["matmul", "memory", "attention", "collectives"];

export class ProgressBar {
  private drawn = false;
  private last = 0;

  constructor(private readonly sink: BarSink | null) {}

  /** Draw phase `phase` at done/total (throttled to 20 redraws per second, except the last). */
  update(phase: string, done: number, total: number, label: string): void {
    if (!this.sink || !(total > 0)) return;
    const now = Date.now();
    if (done < total && now - this.last < 50) return;
    this.last = now;
    const width = 24;
    const fill = Math.round((width * Math.min(done, total)) / total);
    const step = PHASES.indexOf(phase);
    const head = `${step >= 0 ? `[${step + 1}/${PHASES.length}] ` : ""}${phase.padEnd(11)}`;
    const bar = `${"#".repeat(fill)}${"-".repeat(width - fill)}`;
    let line = `${head} [${bar}] ${String(done).padStart(String(total).length)}/${total} ${label}`;
    const cols = (this.sink.columns ?? 0) > 20 ? this.sink.columns! : 100; // a pty without a size reports 0
    if (line.length > cols - 1) line = line.slice(0, cols - 1);
    this.sink.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  /** Clear the line (before other output, and at the end). */
  clear(): void {
    if (this.sink && this.drawn) this.sink.write("\r\x1b[2K");
    this.drawn = false;
  }
}

/** stderr when it is a terminal, else nothing. */
export function stderrBar(): ProgressBar {
  const tty = process.stderr.isTTY ? process.stderr : null;
  return new ProgressBar(tty ? { write: (t) => tty.write(t), columns: tty.columns } : null);
}
