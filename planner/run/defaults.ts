// Figures of the whole run that a profile may leave out: each with its source and status
// (shared/reference/hardware-2026.md's convention: primary, secondary, unverified).
import type { RunFigures } from "./types.js";

export interface DefaultFigure {
  value: number;
  source: string;
}

/** Kokolis et al. 2025 (HPCA, arXiv 2410.21680), Meta's RSC-1 (16K A100, 8 GPUs per node):
 *  r_f = 6.50 job-interrupting failures per 1,000 node-days → 6.5e-3 / (8 · 24) per GPU-hour
 *  (secondary: the paper's figure as quoted by two independent summaries, formulas-scale.md
 *  §4.3). A fleet rate, not fitted to Llama 3: at 16,384 GPUs it projects a 1.8 h job MTTF. */
export const FLEET_FAILURES_PER_GPU_HOUR = 6.5e-3 / (8 * 24);

export const RUN_DEFAULTS: Record<keyof Omit<RunFigures, "boardPower" | "nodePower">, DefaultFigure> = {
  failuresPerGpuHour: {
    value: FLEET_FAILURES_PER_GPU_HOUR,
    source:
      "Kokolis et al. 2025, 'Revisiting Reliability in Large-Scale Machine Learning Research Clusters' (HPCA, arXiv 2410.21680): RSC-1 6.50 failures per 1,000 node-days, 8 A100 per node (secondary)",
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
