// npm run bench: accuracy against published runs, search speed, and the step simulator's speed
// and agreement with the closed form.
import { runAccuracy } from "./accuracy.js";
import { runSimAgreement } from "./sim-agreement.js";
import { runSimSpeed } from "./sim-speed.js";
import { runSpeed } from "./speed.js";

const accuracyOk = runAccuracy();
console.log("");
runSpeed();
console.log("");
runSimSpeed();
console.log("");
runSimAgreement();
process.exitCode = accuracyOk ? 0 : 1;
