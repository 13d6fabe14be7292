// Errors the user can fix: printed as one line, exit code 2. Anything else is a bug.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
