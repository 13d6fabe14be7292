// The planner's public surface: pure functions of (model, hardware, training, plan).
export * from "./types.js";
export { paddedVocab, totalParams, layerParams, stageParamsPerGpu } from "./model.js";
export { evaluatePlan, worstStageMemory, peakFlops } from "./evaluate.js";
export { search, comparePlans, type SearchOptions, type SearchResult } from "./search.js";
export { checkFixed, checkTraining, type InputIssue } from "./constraints.js";
export { REJECTION_CODES, type RejectionCode, type RejectionCounts } from "./rejections.js";
export { checkLayout, type Fixed } from "./space.js";
export { parseModelFile, parseHfConfig, looksLikeHfConfig } from "./schema/model.js";
export { parseHardwareFile, resolveExtends } from "./schema/hardware.js";
export type { Parsed } from "./schema/result.js";
