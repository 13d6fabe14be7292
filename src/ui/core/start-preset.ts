// The interactive planner opened already set up (`paraplan ui --model … --gpus …`): the setup
// form and the whole run holding the command line's choices before the first frame. The user
// lands on the setup screen with them chosen (Enter plans, as after choosing them by hand), so
// that the batch and sequence they imply are seen before a search runs.
import { DEFAULT_RUN, type RunChoice } from "./run-settings.js";
import { FILE_LOADERS, type OptionLoaders, type SetupOptions, defaultsFor } from "./setup.js";
import { type SetupState, chosenModel, chosenProfile, initialSetup } from "./state.js";

/** What the command line chose, each read and validated by plan's parser (src/ui-args.ts);
 *  undefined: the setup's default. */
export interface StartChoice {
  /** A preset name or a model file (`--model`). */
  model?: string | undefined;
  /** A profile name or file (`--profile`). */
  profile?: string | undefined;
  /** An engine name or file (`--engine`). */
  engine?: string | undefined;
  /** Total GPUs (`--gpus`): whole nodes of the profile's size where they divide, as the setup
   *  splits a count when the cluster changes. */
  gpus?: number | undefined;
  /** Tokens to train (`--tokens`). */
  tokens?: number | undefined;
  /** USD per GPU-hour (`--price`). */
  price?: number | undefined;
}

/** The state the planner starts from: its setup form and whole run. */
export interface StartState {
  setup: SetupState;
  runChoice: RunChoice;
}

/** The listed option named `arg` (its index), else the option read from it (a file, or a name
 *  the lists lack); a name or file that cannot be read throws the UserError naming its flag. */
function pick<T extends { arg: string }>(list: readonly T[], arg: string, load: (arg: string) => T): { index: number; file: T | null } {
  const index = list.findIndex((x) => x.arg === arg);
  return index >= 0 ? { index, file: null } : { index: 0, file: load(arg) };
}

/** The setup form and whole run with the choices made; the numbers not chosen are the model's
 *  defaults on that cluster (its file's batch, else one sequence per GPU, as `plan` takes them). */
export function startState(o: SetupOptions, c: StartChoice, load: OptionLoaders = FILE_LOADERS): StartState {
  let s = initialSetup(o);
  if (c.model !== undefined) {
    const m = pick(o.models, c.model, load.loadModelFile);
    s = { ...s, model: m.index, modelFile: m.file };
  }
  if (c.profile !== undefined) {
    const p = pick(o.profiles, c.profile, load.loadProfileFile);
    s = { ...s, profile: p.index, profileFile: p.file };
  }
  if (c.engine !== undefined) {
    const e = pick(o.engines, c.engine, load.loadEngineFile);
    s = { ...s, engine: e.index, engineFile: e.file };
  }
  const model = chosenModel(s, o);
  const sizes = defaultsFor(c.gpus === undefined ? model : { ...model, gpus: c.gpus }, chosenProfile(s, o));
  return {
    setup: { ...s, ...sizes },
    runChoice: { tokens: c.tokens ?? DEFAULT_RUN.tokens, price: c.price ?? DEFAULT_RUN.price },
  };
}
