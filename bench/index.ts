// npm run bench: accuracy against published runs, search speed, and the step simulator's speed
// and agreement with the closed form, measured pipeline timelines on CPU ranks, and the estimated
// duration of `paraplan profile`.
import { runAccuracy } from "./accuracy.js";
import { runProfileTime } from "./profile-time.js";
import { runSimAgreement } from "./sim-agreement.js";
import { runSimSpeed } from "./sim-speed.js";
import { runSpeed } from "./speed.js";
import { runTimelineMeasured } from "./timeline-measured.js";

const accuracyOk = runAccuracy();
console.log("");
runSpeed();
console.log("");
runSimSpeed();
console.log("");
runSimAgreement();
console.log("");
runTimelineMeasured();
console.log("");
runProfileTime();
process.exitCode = accuracyOk ? 0 : 1;
