// The interactive planner's state: one plain object, changed only by the reducer.
import type { StepEvent } from "../../../executor/events.js";
import type { Summary } from "../../../executor/summary.js";
import type { PlanResult, Recompute, ZeroStage } from "../../../planner/index.js";
import { DEFAULT_RUN, type Entry, type RunChoice } from "./run-settings.js";
import type { SearchProgress } from "./search-job.js";
import {
  type EngineOption,
  type FieldId,
  type ModelOption,
  type NumericField,
  type ProfileOption,
  type Session,
  type SetupOptions,
  defaultEngineIndex,
  defaultModelIndex,
  defaultProfileIndex,
  defaultsFor,
} from "./setup.js";

export type Screen = "setup" | "results" | "detail" | "frontier" | "execute";
export type SortKey = "throughput" | "memory" | "mfu";
export const SORT_KEYS: readonly SortKey[] = ["throughput", "memory", "mfu"];
export type FilterDim = "tp" | "pp" | "dp" | "ep" | "zero" | "recompute";
export const FILTER_DIMS: readonly FilterDim[] = ["tp", "pp", "dp", "ep", "zero", "recompute"];
export interface Filters {
  tp?: number;
  pp?: number;
  dp?: number;
  /** Expert parallel (a mixture of experts' plans; with etp > 1 the table's "4×2" is ep 4). */
  ep?: number;
  zero?: ZeroStage;
  recompute?: Recompute;
}

/** The ranked table as last computed: the plans it was computed from, the order and filters
 *  (key), and its rows. Derived from search, sort and filters; kept so that it is computed once. */
export interface PlanTable {
  plans: readonly PlanResult[];
  key: string;
  rows: PlanResult[];
}

export interface SetupState {
  focus: FieldId;
  /** The chosen model and cluster: a listed option (index), or a file typed in. */
  model: number;
  modelFile: ModelOption | null;
  profile: number;
  profileFile: ProfileOption | null;
  /** The software stack (engine profile): a listed option (index), or a file typed in. */
  engine: number;
  engineFile: EngineOption | null;
  nodes: number;
  perNode: number;
  batch: number;
  seq: number;
  /** Digits typed into numeric fields: the focused one's while typing, and any field's that
   *  holds no usable number (empty, 0), kept until fixed; planning waits for them. */
  drafts: Partial<Record<NumericField, string>>;
  /** A file path being typed into the model, cluster or software field. */
  text: string | null;
  error: string | null;
}

/** stopping: the user asked the run to stop; stopped: it ended so (not a failure). */
export type RunStatus = "preparing" | "running" | "stopping" | "done" | "failed" | "stopped" | "refused";

export interface RunState {
  status: RunStatus;
  plan: PlanResult;
  totalSteps: number;
  /** How the plan runs here (CPU ranks or GPUs, and why). */
  note: string;
  runDir: string | null;
  /** The engine profile the prediction was made with (the worker's, as `paraplan execute` prints
   *  it), once the run is prepared; and why the worker runs this plan eager, if it does though
   *  the device compiles. */
  engine?: string | null;
  eager?: string | null;
  steps: StepEvent[];
  summary: Summary | null;
  message: string | null;
}

export interface Message {
  text: string;
  tone: "info" | "error";
}

export interface AppState {
  options: SetupOptions;
  /** Screens entered, the current one last; back pops. */
  stack: Screen[];
  help: boolean;
  setup: SetupState;
  session: Session | null;
  search: SearchProgress | null;
  sort: SortKey;
  filters: Filters;
  /** The sorted, filtered plans (null before a search); the reducer keeps it up to date. */
  table: PlanTable | null;
  /** Row under the cursor in the ranked table (index into the sorted, filtered plans). */
  cursor: number;
  /** The plan shown in detail, on the frontier, or exported / executed from there. */
  selected: PlanResult | null;
  /** The plan the detail view showed before the one it shows (for the difference); a plan
   *  chosen on the frontier counts once the detail shows it (Enter, or back). */
  previous: PlanResult | null;
  /** The plan the detail view showed last. */
  lastDetail: PlanResult | null;
  run: RunState | null;
  message: Message | null;
  /** The whole run the detail prices (`w` and `$` set it; kept across searches). */
  runChoice: RunChoice;
  /** A run setting being typed into the message row. */
  entry: Entry | null;
}

export const screenOf = (s: AppState): Screen => s.stack[s.stack.length - 1] ?? "setup";

export function chosenModel(s: SetupState, o: SetupOptions): ModelOption {
  return s.modelFile ?? o.models[s.model]!;
}

export function chosenProfile(s: SetupState, o: SetupOptions): ProfileOption {
  return s.profileFile ?? o.profiles[s.profile]!;
}

export function chosenEngine(s: SetupState, o: SetupOptions): EngineOption {
  return s.engineFile ?? o.engines[s.engine]!;
}

export function initialSetup(o: SetupOptions): SetupState {
  const model = defaultModelIndex(o);
  const profile = defaultProfileIndex(o);
  const sizes = defaultsFor(o.models[model]!, o.profiles[profile]!);
  return { focus: "model", model, modelFile: null, profile, profileFile: null, engine: defaultEngineIndex(o), engineFile: null, ...sizes, drafts: {}, text: null, error: null };
}

/** What a new search starts from: no filters, cursor at the top, nothing selected or running. */
export const FRESH_RESULTS = {
  filters: {},
  cursor: 0,
  selected: null,
  previous: null,
  lastDetail: null,
  run: null,
  message: null,
} as const satisfies Partial<AppState>;

/** The planner's first state: the setup's defaults, or `start` (the command line's choices,
 *  start-preset.ts). */
export function initialState(options: SetupOptions, start?: { setup: SetupState; runChoice: RunChoice }): AppState {
  if (options.models.length === 0 || options.profiles.length === 0)
    throw new Error("paraplan: no model presets or hardware profiles found under profiles/");
  return {
    options,
    stack: ["setup"],
    help: false,
    setup: start?.setup ?? initialSetup(options),
    session: null,
    search: null,
    table: null,
    sort: "throughput",
    runChoice: start?.runChoice ?? DEFAULT_RUN,
    entry: null,
    ...FRESH_RESULTS,
  };
}
