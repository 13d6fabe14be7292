// The planner's public surface: pure functions of (model, hardware, training, plan).
export * from "./types.js";
export { paddedVocab, totalParams, layerParams, stageParamsPerGpu } from "./model.js";
export { evaluatePlan, worstStageMemory, peakFlops, wireLinks } from "./evaluate.js";
export { search, comparePlans, type SearchOptions, type SearchResult } from "./search.js";
export { checkFixed, checkTraining, issueText, modelGaps, moeEngineIssue, unsupportedByEngine, type InputIssue } from "./constraints.js";
export { REJECTION_CODES, type RejectionCode, type RejectionCounts } from "./rejections.js";
export { checkLayout, type Fixed } from "./space.js";
export { type Layout, type LayoutIssue, buildLayout, layoutOf, microBatchesOf, validate, validateFixed, ruleContext, dimsOf, degreesOf } from "./layout/layout.js";
export { type Degrees, type GroupName, type GroupPlacement, type Placement, type Span, GROUP_NAMES, groupRanks, groupShape, place } from "./layout/groups.js";
export { type Level, scaleUp } from "./layout/fabric.js";
export { RANK_ORDERS, ordersToPrice } from "./layout/order.js";
export { type AllReduceAlgorithm, allReduceChoice } from "./cost/tuner.js";
export { type LayoutCode, type Rule, RULES, RULE_BY_CODE } from "./layout/rules.js";
export { type WireItem, type WireKind, type WireId, wireOf, worldVolumes } from "./wire/wire.js";
export { gradientBucketBytes, STATE_BYTES, BYTES_16 } from "./wire/facts.js";
export { modelDefaults, parseModelFile, parseHfConfig, looksLikeHfConfig, unrecognisedModelFile } from "./schema/model.js";
export { parseHardwareFile, resolveExtends } from "./schema/hardware.js";
export type { KindCheck } from "./schema/extends.js";
export type { Parsed } from "./schema/result.js";
export { PLAN_FIELDS, ZERO_STAGES, RECOMPUTE_MODES, SCHEDULES, planOnly, parsePlan } from "./schema/plan.js";
export { parseEngineFile } from "./schema/engine.js";
export { generationKeys } from "./schema/engine-keys.js";
export {
  type Engine,
  type EngineSupports,
  MEGATRON_SUPPORTS,
  type AttentionKernel,
  type EngineRecompute,
  type MoeDispatcher,
  type SharedExpertOverlap,
  type ElementwiseOp,
  ATTENTION_KERNELS,
  ELEMENTWISE_OPS,
  DEFAULT_ENGINE,
  FORMAT_ENGINES,
  executorEngineName,
  fusedAttentionOf,
  onEngine,
  gpuGeneration,
  engineAttentionFigure,
  SAME_SM,
} from "./engine.js";
export { withOverrides } from "./engine-overrides.js";
export { type RecomputeModule, RECOMPUTE_MODULES, UNPRICED_RECOMPUTE_MODULES, DEFAULT_RECOMPUTE_MODULES, recomputeModulesOf, recomputeModulesRefusal, isDefaultModules } from "./recompute-modules.js";
export { bf16Optimizer, engineBucketBytes, engineGradReduceBytes, gradBufferBytes, gradReduceBytes } from "./cost/engine-terms.js";
export { type StageKind, type StageSplit, accountedVirtualSplit, firstLastOfVirtual, firstLastVirtualSplit, firstMiddleLast, middleHeavySplit, parseStageLayers, splitLabel, stageSplit, worstStageName } from "./layout/stages.js";
export { type DeepSpeedBalance, typeSplit as gptModelPipeTypeSplit, parametersSplit, pipeItemWeights, pipeLayerParams, uniformSplit016 } from "./layout/gpt-model-pipe.js";
export { cpWhy } from "./cp-why.js";
