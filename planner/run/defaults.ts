// Figures of the whole run that a profile may leave out: each with its source and status
// (shared/reference/hardware-2026.md's convention: primary, secondary, unverified).
import type { RunFigures } from "./types.js";

export interface DefaultFigure {
  value: number;
  source: string;
}

/** Llama Team 2024, "The Llama 3 Herd of Models" (arXiv 2407.21783) §3.3.4, Table 5: 419
 *  unexpected interruptions in a 54-day snapshot of Llama 3 405B pre-training on 16,384 H100s →
 *  419 / (54 · 24 h · 16,384) = 1.973e-5 per GPU-hour, a job MTBF of 54 · 24 / 419 = 3.09 h at that
 *  size (primary; formulas-scale.md §4.3 derives the same 3.1 h). The whole job's interruptions
 *  on a production LLM run, the quantity Daly's M is. Against the other figures §4.3 quotes:
 *  Kokolis et al. 2025 (HPCA, arXiv 2410.21680; secondary, read through summaries) fit RSC-1's
 *  A100 fleet at 6.50 failures per 1,000 node-days = 6.5e-3 / (8 · 24) = 3.385e-5 per GPU-hour,
 *  projecting 1.8 h at 16,384 GPUs, within 2× of Llama 3; the same study's measured MTTF of
 *  1,024-GPU research jobs, 7.9 h (1 / (7.9 · 1,024) = 1.236e-4 per GPU-hour, and 8-GPU jobs'
 *  47.7 days, 1.09e-4), is 3.7× its own fit and would give 0.49 h at 16,384 GPUs, a sixth of the
 *  3.1 h Llama 3 saw there: it agrees with neither, so it is not used (the summaries do not say
 *  what the measured MTTF counts that the fit leaves out). */
export const FLEET_FAILURES_PER_GPU_HOUR = 419 / (54 * 24 * 16384);

export const RUN_DEFAULTS: Record<keyof Omit<RunFigures, "boardPower" | "nodePower">, DefaultFigure> = {
  failuresPerGpuHour: {
    value: FLEET_FAILURES_PER_GPU_HOUR,
    source:
      "Llama Team 2024, 'The Llama 3 Herd of Models' (arXiv 2407.21783) 3.3.4: 419 unexpected interruptions in 54 days of pre-training on 16,384 H100 = 419/(54 x 24 h x 16,384) per GPU-hour, job MTBF 3.1 h there (primary; shared/reference/formulas-scale.md 4.3); a production run's rate assumed for this GPU",
  },
  pue: {
    value: 1.09,
    source: "Meta, sustainability.fb.com/data-centers: data centre buildings completed in 2021 exhibit a PUE of 1.09 (the facility Llama 3 trained in is Meta's; primary for Meta, an assumption elsewhere)",
  },
  checkpointBandwidth: {
    value: 2e12,
    source: "Llama Team 2024, 'The Llama 3 Herd of Models' §3.3.1: Tectonic storage sustains 2 TB/s (7 TB/s peak) (primary; assumed storage for this cluster)",
  },
  stagingBandwidth: {
    value: 31.5e9,
    source: "PCIe 4.0 x16 device-to-host, 16 GT/s × 16 lanes ≈ 31.5 GB/s each way (PCI-SIG; stated assumption for a profile without its own figure)",
  },
  restartTime: {
    value: 600,
    source: "stated assumption (unverified): 10 min from an interruption to training again, the restart time of Daly 2006's worked examples",
  },
};
