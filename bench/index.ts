// npm run bench: accuracy against published runs, the default engine out of sample on NVIDIA's
// Megatron-Core tables (bench/validation/nemo.ts), the CLI's start-up, search speed, and the step
// simulator's speed and agreement with the closed form, measured pipeline timelines on CPU ranks,
// the GPU sweep's wall time, the estimated duration of `paraplan profile`, and `paraplan calibrate` on the recorded H200 runs.
import { runAccuracy } from "./accuracy.js";
import { runCalibrateGpu } from "./calibrate-gpu.js";
import { runProfileTime } from "./profile-time.js";
import { runSimAgreement } from "./sim-agreement.js";
import { runSimSpeed } from "./sim-speed.js";
import { runSpeed } from "./speed.js";
import { runStartup } from "./startup.js";
import { runSweepBench } from "./sweep.js";
import { runTimelineMeasured } from "./timeline-measured.js";
import { runNemoValidation } from "./validation/nemo.js";

const accuracyOk = runAccuracy();
console.log("");
runNemoValidation();
console.log("");
runStartup();
console.log("");
runSpeed();
console.log("");
runSweepBench();
console.log("");
runSimSpeed();
console.log("");
runSimAgreement();
console.log("");
runTimelineMeasured();
console.log("");
runProfileTime();
console.log("");
runCalibrateGpu();
process.exitCode = accuracyOk ? 0 : 1;
