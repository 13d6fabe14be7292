// The executor's refusals: a run it will not start, each with a `code` that says why (the CLI
// maps codes to exit statuses in src/errors.ts). Anything else thrown is a bug.
export type ExecutorErrorCode = "does-not-fit" | "no-python" | "bad-input";

export class ExecutorError extends Error {
  constructor(
    readonly code: ExecutorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ExecutorError";
  }
}

/** The plan needs more devices or memory than this node has. */
export class DoesNotFit extends ExecutorError {
  constructor(message: string) {
    super("does-not-fit", message);
    this.name = "DoesNotFit";
  }
}

/** No interpreter, no torch, or no worker to run. */
export class PythonMissing extends ExecutorError {
  constructor(message: string) {
    super("no-python", message);
    this.name = "PythonMissing";
  }
}

/** A directory or file the user named cannot be created (executor/fs-safe.ts): bad input. */
export class CannotCreate extends ExecutorError {
  constructor(message: string) {
    super("bad-input", message);
    this.name = "CannotCreate";
  }
}

/** A multi-node rendezvous port on this machine held by a program that is not a torch
 *  rendezvous: torchrun would wait there until the start-up deadline. */
export class PortHeld extends ExecutorError {
  constructor(message: string) {
    super("bad-input", message);
    this.name = "PortHeld";
  }
}

/** A multi-node rendezvous host that does not exist (executor/port-holder.ts unresolvable): bad
 *  input, where torchrun would retry it until the start-up deadline. */
export class CannotResolve extends ExecutorError {
  constructor(message: string) {
    super("bad-input", message);
    this.name = "CannotResolve";
  }
}
