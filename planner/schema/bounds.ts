// The bounds of a model file's counts, shared by paraplan's own format and the HuggingFace import.
import type { z as Z } from "zod";

/** Upper bound of every count of a model file (README "Inputs"): far above any model trained so
 *  far, low enough that the search's enumerations end in seconds. All are below 2^53, so a count
 *  within its bound is an exact integer. */
export const MODEL_BOUNDS = {
  layers: 10_000,
  hidden: 1_048_576,
  heads: 65_536,
  kvHeads: 65_536,
  headDim: 65_536,
  ffnHidden: 16_777_216,
  vocab: 16_777_216,
  seqLen: 16_777_216,
  slidingWindow: 16_777_216,
  globalBatch: 16_777_216,
  gpus: 1_048_576,
  // Mixture of experts and latent attention (README "Mixture of experts").
  experts: 65_536,
  topK: 65_536,
  sharedExperts: 65_536,
  expertFfnHidden: 16_777_216,
  layerFreq: 10_000,
  loraRank: 1_048_576,
  mlaHeadDim: 65_536,
  mtpLayers: 10_000,
} as const;
export type BoundedKey = keyof typeof MODEL_BOUNDS;

export const formatBound = (n: number) => n.toLocaleString("en-US");

/** A positive integer at most `bound`; the bound is checked first so that a huge value (1e12,
 *  2^60) is named with the bound rather than as a non-integer. */
export const boundedCount = (z: typeof Z, bound: number) =>
  z
    .number()
    .max(bound, { error: `must be at most ${formatBound(bound)} (paraplan's bound, README "Inputs")` })
    .int({ error: "must be a whole number" })
    .positive({ error: "must be positive" });

