// Output sinks, injected so commands can be tested without a process.
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

// A reader that goes away (`paraplan plan | head`) closes the pipe: src/cli.ts ends the process
// quietly then, unless a run is going on (`execute --json | head -1`): its ranks, results and exit
// status do not hang on a reader, so the run goes on writing nowhere (keepRunningOnBrokenPipe).
const closed = { out: false, err: false };
let running: (() => void) | null = null;

/** execute, once its ranks start: a closed stdout no longer ends the process; `say` runs once then. */
export function keepRunningOnBrokenPipe(say: () => void): void {
  running = say;
}

/** stdout's reader went away: true where a run goes on (said once), false where the process may end. */
export function stdoutBroke(): boolean {
  closed.out = true;
  if (running === null) return false;
  const say = running;
  running = () => {};
  say();
  return true;
}

/** stderr's reader went away: what would be written there is dropped. */
export function stderrBroke(): void {
  closed.err = true;
}

export const processIo: Io = {
  out: (text) => {
    if (!closed.out) process.stdout.write(text + "\n");
  },
  err: (text) => {
    if (!closed.err) process.stderr.write(text + "\n");
  },
};
