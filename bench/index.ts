// npm run bench: accuracy against published runs, then search speed.
import { runAccuracy } from "./accuracy.js";
import { runSpeed } from "./speed.js";

const accuracyOk = runAccuracy();
console.log("");
runSpeed();
process.exitCode = accuracyOk ? 0 : 1;
