// Closed form against simulation on the calibration runs (bench/calibration.ts): for each row the
// closed form's best plan (stated dimensions fixed, the rest searched), its closed-form step, its
// simulated step, and the difference. Rows beyond 5 % are explained in planner/sim/README.md.
import { search } from "../planner/index.js";
import { Simulator, simulate } from "../planner/sim/simulate.js";
import { loadProfile } from "../src/load.js";
import { seconds, table } from "../src/format/units.js";
import { loadCalibrationRows, planText, predictRow } from "./calibration.js";

/** The bound on |closed form − simulated| / simulated, beyond which a row needs a reason. */
export const AGREEMENT_TARGET = 0.05;

export function runSimAgreement(): boolean {
  console.log("Closed form against simulation on the published runs (best closed-form plan of each row)\n");
  const rows: string[][] = [];
  let beyond = 0;
  const simulator = new Simulator();
  // The rows the simulator's README explains (Megatron-LM 2021 and NeMo GPT-3): the sources the
  // closed form was first calibrated on.
  for (const row of loadCalibrationRows().filter((r) => r.source === "MEG21" || r.source === "DGXC")) {
    const hw = loadProfile(row.profile);
    const predicted = predictRow(row);
    const best = search(row.model, hw, row.training, row.fixed, { top: 1 }).plans[0];
    if (!best || predicted.predicted === null) {
      rows.push([row.id, "no plan fits", "-", "-", "-", "-", "-", "-"]);
      continue;
    }
    const tl = simulate(row.model, hw, row.training, best, {}, simulator);
    const sim = tl.step;
    const diff = (predicted.predicted - sim) / sim;
    if (Math.abs(diff) > AGREEMENT_TARGET) beyond++;
    const st = tl.stages[tl.criticalStage]!;
    rows.push([
      row.id,
      predicted.plan ? planText(predicted.plan) : "-",
      row.measuredStepTime.toFixed(3),
      predicted.predicted.toFixed(3),
      sim.toFixed(3),
      `${diff >= 0 ? "+" : ""}${(100 * diff).toFixed(1)}%`,
      `bubble ${seconds(st.bubble)} (closed ${seconds(best.time.bubble)}), exposed dp ${seconds(st.dpComm)} (closed ${seconds(best.time.dpComm)})`,
      `${(100 * ((sim - row.measuredStepTime) / row.measuredStepTime)).toFixed(1)}%`,
    ]);
  }
  console.log(
    table(
      ["row", "plan", "measured s", "closed form s", "simulated s", "closed − sim", "where they differ (critical stage)", "sim error"],
      rows,
      [false, false, true, true, true, true, false, true],
    ),
  );
  console.log(
    `\n${beyond} row${beyond === 1 ? "" : "s"} beyond ${100 * AGREEMENT_TARGET}% (closed form against simulation); the reasons are in planner/sim/README.md`,
  );
  return beyond === 0;
}
