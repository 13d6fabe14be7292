// Everything that changes the planner's state. Side effects (searching, writing files, running
// the executor) live in the controller; these are the facts it reports.
import type { StepEvent } from "../../../executor/events.js";
import type { Summary } from "../../../executor/summary.js";
import type { PlanResult } from "../../../planner/index.js";
import type { EntryAction } from "./run-settings.js";
import type { SearchProgress } from "./search-job.js";
import type { EngineOption, ModelOption, ProfileOption, Session } from "./setup.js";
import type { FilterDim, Message } from "./state.js";

export type SetupAction =
  | { type: "setup/focus"; delta: number }
  /** ←/→ on the focused field: the previous or next option, half or double a number. */
  | { type: "setup/change"; delta: number }
  /** Digits typed into a number (one key, or a paste). */
  | { type: "setup/digit"; digit: string }
  | { type: "setup/backspace" }
  /** The file path being typed into the model, cluster or software field; null stops typing. */
  | { type: "setup/text"; text: string | null }
  | { type: "setup/model-file"; option: ModelOption }
  | { type: "setup/profile-file"; option: ProfileOption }
  | { type: "setup/engine-file"; option: EngineOption }
  | { type: "setup/error"; message: string | null };

export type Action =
  | SetupAction
  | EntryAction
  | { type: "search/start"; session: Session }
  | { type: "search/progress"; progress: SearchProgress }
  | { type: "results/move"; delta: number }
  | { type: "results/sort" }
  | { type: "results/filter"; dim: FilterDim }
  | { type: "results/clear-filters" }
  /** Open the detail of a plan (default: the one under the cursor). */
  | { type: "detail/open"; plan?: PlanResult }
  /** The next (or previous) plan of the table, in the detail view. */
  | { type: "detail/step"; delta: number }
  | { type: "frontier/open" }
  | { type: "frontier/move"; delta: number }
  | { type: "run/start"; plan: PlanResult; steps: number }
  | { type: "run/note"; note: string }
  | { type: "run/prepared"; runDir: string; engine?: string; eager?: string | null }
  | { type: "run/step"; event: StepEvent }
  | { type: "run/done"; summary: Summary }
  | { type: "run/failed"; message: string; refused: boolean }
  | { type: "run/stop" }
  | { type: "back" }
  | { type: "help"; open: boolean }
  | { type: "message"; message: Message | null };
