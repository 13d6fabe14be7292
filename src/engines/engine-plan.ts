// Shared vocabulary of the engine exporters and readers: what a format is, what an export returns,
// how an engine says whether it can run a plan (exactly, nearest, or not at all), and the few
// facts about a plan's layout every engine needs (nodes, layers per stage, model family).
import type { Fixed, Hardware, ModelSpec, Plan, StageSplit, Training } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { PLAN_FIELDS, planOnly as planOf } from "../../planner/schema/plan.js";
import { type CapabilityContext, launcherRefusal } from "../../planner/layout/capabilities.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";

/** What the engines' capability checks (planner/layout/capabilities.ts) read besides the plan. */
export function capabilityContext(t: Training, hw: Hardware, release?: Release, model?: ModelSpec): CapabilityContext {
  return {
    precision: t.precision,
    ...(release ? { release: release.id } : {}),
    globalBatch: t.globalBatch,
    seqLen: t.seqLen,
    ffnHidden: model?.ffnHidden ?? 1,
    gpus: t.gpus,
    gpusPerNode: hw.gpusPerNode,
  };
}

export const EXPORT_FORMATS = ["megatron", "deepspeed", "torchtitan", "llm-foundry", "torchrun", "slurm"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFile {
  name: string;
  content: string;
}

export interface ExportOptions {
  /** The engine release to target (each engine lists its own; default: its newest). */
  release?: string;
  /** torchrun/slurm: the training script and its arguments (default: paraplan's worker). */
  script?: string;
  /** torchrun: the rendezvous endpoint HOST:PORT every node can reach. */
  rdzvEndpoint?: string;
  /** Name of the hardware profile, for comments. */
  profileName?: string;
  /** torchrun/slurm with paraplan's worker: where launch.json is written (the worker's --spec),
   *  an absolute path where the files go to a directory (export --out, the planner's g);
   *  default "launch.json", beside the script in the directory it runs from. */
  specPath?: string;
}

export interface ExportResult {
  format: ExportFormat;
  release: Release;
  /** The plan as the engine will run it (differs from the input when the mapping is nearest). */
  plan: Plan;
  /** Whether `plan` is the nearest plan the engine runs in place of the one asked for. */
  nearest: boolean;
  files: ExportFile[];
  /** Approximations and things the user must do, one sentence each. */
  notes: string[];
  /** The training as the engine runs the plan: the input's, or with a setting the engine forces on
   *  for it (Engine.runsWith); the prediction is made with it. */
  training: Training;
}

export interface Release {
  id: string;
  /** What the names were checked against: repository, commit or tag, file. */
  label: string;
  /** Where the release's stack differs from its format's engine profile: bytes per logit its last
   *  pipeline stage keeps of every micro-batch (Engine.keptOutputBytes). */
  keptOutputBytes?: number;
  /** …and how it splits the stages where pp does not divide the layers (EngineSupports.stageSplit). */
  stageSplit?: StageSplit;
}

export interface EngineContext {
  model: ModelSpec;
  plan: Plan;
  training: Training;
  hw: Hardware;
  options: ExportOptions;
  release: Release;
}

/** How an engine runs a plan: as is, as the nearest plan it can express, or not at all. */
export type Translation =
  | { kind: "exact"; notes?: string[] }
  | { kind: "nearest"; plan: Plan; notes: string[] }
  | { kind: "refused"; reason: string };

export interface Engine {
  format: ExportFormat;
  releases: readonly Release[];
  /** Sub-spaces of the plan space the engine expresses exactly; the export searches their union. */
  overlays(release: Release, model: ModelSpec, training: Training): Fixed[];
  translate(plan: Plan, ctx: Omit<EngineContext, "plan">): Translation;
  /** Why the engine cannot build the model whatever the plan, or null: checked before the export
   *  searches, so the refusal names the model rather than a plan (translate refuses it too). */
  modelRefusal?(ctx: Omit<EngineContext, "plan">): string | null;
  files(ctx: EngineContext): ExportFile[];
  /** The training as the engine runs plans with these dimensions, where the stack forces a setting
   *  the training turned off (Megatron-FSDP's ZeRO-3 overlaps its gradient reduction whatever
   *  --overlap-grad-reduce says), with a sentence saying so; undefined where it runs the training
   *  as given. The export searches, writes and predicts with it. */
  runsWith?(dims: Pick<Fixed, "zero" | "pp" | "cp" | "schedule">, training: Training, release: Release, model?: ModelSpec): { training: Training; note: string } | undefined;
}

/** A plan the chosen engine cannot run: one line, exit 2 (a UserError). */
export class ExportRefused extends UserError {
  constructor(format: ExportFormat, reason: string) {
    super(`--format ${format}: ${reason}`);
    this.name = "ExportRefused";
  }
}

export { PLAN_FIELDS, planOnly as planOf } from "../../planner/schema/plan.js";

/** Same plan: every field, and with cp > 1 the same K/V exchange and sequence cut (defaults filled in). */
export function samePlan(a: Plan, b: Plan): boolean {
  if (!PLAN_FIELDS.every((k) => a[k] === b[k])) return false;
  if (a.cp === 1) return true;
  const pa = planOf(a), pb = planOf(b);
  return pa.cpComm === pb.cpComm && pa.cpSplit === pb.cpSplit;
}

/** GPT-style (learned positions) models carry biases and LayerNorm, Llama-style (RoPE) ones no
 *  biases and RMSNorm: the same convention the planner counts parameters with (planner/model.ts,
 *  layerSmallParams). The model file has no normalization field of its own. */
export function llamaStyle(m: ModelSpec): boolean {
  return m.positional === "rope";
}

/** Transformer layers in one (virtual) pipeline stage. */
export function layersPerStage(m: ModelSpec, p: Plan): number {
  return m.layers / (p.pp * p.vpp);
}

/** Micro-batches per step per data-parallel replica. */
export function microBatches(t: Training, p: Plan): number {
  return t.globalBatch / (p.dp * p.microBatch);
}

export interface NodeLayout {
  nodes: number;
  perNode: number;
}

/** Nodes and processes per node of a launcher: every node runs the same number of ranks. */
export function nodeLayout(t: Training, hw: Hardware): NodeLayout | string {
  const refused = launcherRefusal(ONE_PLAN, capabilityContext(t, hw));
  if (refused) return refused.reason;
  const perNode = Math.min(t.gpus, hw.gpusPerNode);
  return { nodes: t.gpus / perNode, perNode };
}

// A plan in words and the schedules' names, as the plan table writes them.
export { describePlan as describe, SCHEDULE_LABEL as SCHEDULE_NAME } from "../format/plan-text.js";

/** An argument list as a file: a comment header, then one `--flag [value]` per line. */
export function argsFile(header: string[], args: string[][]): string {
  return [...header.map((l) => `# ${l}`), ...args.map((a) => a.join(" "))].join("\n") + "\n";
}

/** The release an option names, or the engine's default (its first). */
export function pickRelease(engine: Engine, id: string | undefined): Release {
  if (id === undefined) return engine.releases[0]!;
  const r = engine.releases.find((x) => x.id === id);
  if (!r) throw new UserError(`--release: "${id}" is not a ${engine.format} release paraplan knows; one of ${engine.releases.map((x) => x.id).join(", ")}`);
  return r;
}
