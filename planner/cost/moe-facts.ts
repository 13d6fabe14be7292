// Figures of mixture-of-experts training that are choices, not arithmetic: stated and adjustable.

/** Busiest expert rank's load over the mean, default: the capacity factor 1.25 of Switch
 *  Transformer (Fedus, Zoph & Shazeer 2022, JMLR, §2.2 "expert capacity" and Table 1: 1.25 is
 *  their recommended training setting) — with token dropping at that factor no expert processes
 *  more; without dropping, auxiliary-loss balancing (Fedus et al. eq. 4; DeepSeek-V3 §2.1.2) keeps
 *  the busiest near it. `--moe-imbalance` (1 = perfect balance). */
export const DEFAULT_MOE_IMBALANCE = 1.25;

/** Optimizer-state bytes per parameter: fp32 master weights plus Adam's two moments, fp32
 *  (Rajbhandari et al. 2020 §3: 12) or bf16 (DeepSeek-V3 report §3.3.3, "we adopt the BF16 data
 *  format instead of FP32 to track the first and second moments in the AdamW optimizer", master
 *  weights kept in FP32: 4 + 2 + 2 = 8). */
export const OPTIMIZER_STATE_BYTES = { fp32: 12, bf16: 8 } as const;

export const moeImbalanceOf = (t: { moeImbalance?: number }): number => t.moeImbalance ?? DEFAULT_MOE_IMBALANCE;

/** The imbalance a layout's busiest expert rank sees: ρ with the experts spread over ep > 1 ranks;
 *  1 at ep = 1, where every rank holds every expert and computes exactly its own T_r·k routed
 *  copies (etp·T_r·k once the etp group gathers them) however the router spreads them over the
 *  experts — max/mean over one rank is 1 (dropless routing; token dropping and capacity padding
 *  are not modelled, README "Mixture of experts"). Pricing ρ there made ep = 1 plans' routed
 *  compute and activations 25 % too large at the default 1.25. */
export const rankImbalanceOf = (t: { moeImbalance?: number }, ep: number): number => (ep > 1 ? moeImbalanceOf(t) : 1);
export const optimizerBytesOf = (t: { optimizerStates?: "fp32" | "bf16" }): number => OPTIMIZER_STATE_BYTES[t.optimizerStates ?? "fp32"];
