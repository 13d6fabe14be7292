// The controller: turns a key into state changes and side effects (search job, file export,
// executor run), and owns what must be stopped when the user goes back or quits.
import { exitFor, printable } from "../../errors.js";
import type { Action } from "./actions.js";
import { type ExecutePort, RUN_STEPS } from "./execute.js";
import { exportEngineConfigs, exportPlan } from "./export.js";
import { type KeyPress, commandFor } from "./keys.js";
import { type Store, currentPlan } from "./reducer.js";
import { type Cancel, type SearchJobOptions, type SearchProgress, startSearchJob } from "./search-job.js";
import { FIELD_LABEL, FILE_LOADERS, type OptionLoaders, type Session, inSetupTerms, sessionFor } from "./setup.js";
import { fieldProblems } from "./setup-reducer.js";
import { type AppState, chosenEngine, chosenModel, chosenProfile, screenOf } from "./state.js";

export interface Services extends OptionLoaders {
  startSearch: (session: Session, onUpdate: (p: SearchProgress) => void) => Cancel;
  execute: ExecutePort;
  cwd: () => string;
  /** Writes a new file (default: fails with EEXIST rather than overwrite). */
  writeFile?: (path: string, text: string) => void;
  /** Whether a file or folder is there (default: the file system's). */
  exists?: (path: string) => boolean;
  /** Steps of an executed run. */
  runSteps?: number;
}

export function defaultServices(execute: ExecutePort, jobOptions: SearchJobOptions = {}): Services {
  return {
    startSearch: (session, onUpdate) => startSearchJob(session.request, onUpdate, jobOptions),
    execute,
    cwd: () => process.cwd(),
    ...FILE_LOADERS,
  };
}

/** A known failure's message as one printable line (src/errors.ts printable, as the CLI prints
 *  it): a terminal escape quoted from an input file (a key, a JSON parser's excerpt) is shown
 *  escaped, not sent to the terminal. */
const messageOf = (e: unknown): string => {
  const known = exitFor(e);
  if (known === null) throw e;
  return printable(known.message);
};

export class Controller {
  private cancelSearch: Cancel | null = null;
  private cancelRun: Cancel | null = null;
  private runId = 0;

  constructor(
    private readonly store: Store<AppState, Action>,
    private readonly services: Services,
    private readonly onQuit: () => void,
  ) {}

  private get state(): AppState {
    return this.store.getState();
  }

  private dispatch = (a: Action) => this.store.dispatch(a);

  key(k: KeyPress): void {
    const c = commandFor(this.state, k);
    switch (c.kind) {
      case "dispatch": return this.dispatch(c.action);
      case "plan": return this.plan();
      case "load-file": return this.loadFile();
      case "export": return this.export();
      case "export-engines": return this.exportEngines();
      case "execute": return this.execute();
      case "stop-run": return this.stopRun();
      case "back": return this.back();
      case "quit":
        this.dispose();
        return this.onQuit();
      case "none": return;
    }
  }

  /** Build the request from the setup and start the chunked search. */
  plan(): void {
    const { setup, options } = this.state;
    const problems = fieldProblems(setup);
    if (problems.length > 0) {
      const named = problems.map((p) => `${FIELD_LABEL[p.field]} (${p.problem})`).join(", ");
      return this.dispatch({ type: "setup/error", message: `not planned: fix ${named}` });
    }
    let session: Session;
    try {
      session = sessionFor({ model: chosenModel(setup, options), profile: chosenProfile(setup, options), engine: chosenEngine(setup, options), nodes: setup.nodes, perNode: setup.perNode, batch: setup.batch, seq: setup.seq });
    } catch (e) {
      return this.dispatch({ type: "setup/error", message: inSetupTerms(messageOf(e)) });
    }
    this.cancelSearch?.();
    this.dispatch({ type: "search/start", session });
    this.cancelSearch = this.services.startSearch(session, (progress) => {
      this.dispatch({ type: "search/progress", progress });
      if (progress.done) this.cancelSearch = null;
    });
  }

  private loadFile(): void {
    const { setup } = this.state;
    const path = setup.text ?? "";
    try {
      if (setup.focus === "model") this.dispatch({ type: "setup/model-file", option: this.services.loadModelFile(path) });
      else if (setup.focus === "engine") this.dispatch({ type: "setup/engine-file", option: this.services.loadEngineFile(path) });
      else this.dispatch({ type: "setup/profile-file", option: this.services.loadProfileFile(path) });
    } catch (e) {
      this.dispatch({ type: "setup/error", message: inSetupTerms(messageOf(e)) });
    }
  }

  private export(): void {
    const p = currentPlan(this.state);
    const session = this.state.session;
    if (!p || !session) return this.dispatch({ type: "message", message: { text: "no plan to export", tone: "error" } });
    const r = exportPlan(session.request.model.name, p, this.services.cwd(), this.services.writeFile, this.services.exists);
    this.dispatch({ type: "message", message: { text: r.message, tone: r.ok ? "info" : "error" } });
  }

  private exportEngines(): void {
    const p = currentPlan(this.state);
    const session = this.state.session;
    if (!p || !session) return this.dispatch({ type: "message", message: { text: "no plan to export", tone: "error" } });
    const r = exportEngineConfigs(session.request, p, this.services.cwd(), this.services.writeFile, undefined, this.services.exists);
    this.dispatch({ type: "message", message: { text: r.message, tone: r.ok ? "info" : "error" } });
  }

  private execute(): void {
    const plan = currentPlan(this.state);
    const session = this.state.session;
    if (!plan || !session) return this.dispatch({ type: "message", message: { text: "no plan to execute", tone: "error" } });
    this.cancelRun?.();
    const id = ++this.runId;
    // Events of a run that was stopped or replaced are dropped.
    const live =
      <A extends unknown[]>(f: (...args: A) => void) =>
      (...args: A) => {
        if (id === this.runId) f(...args);
      };
    const end = () => {
      if (id === this.runId) this.cancelRun = null;
    };
    const steps = this.services.runSteps ?? RUN_STEPS;
    this.dispatch({ type: "run/start", plan, steps });
    const h = this.services.execute(
      { session, plan, steps },
      {
        prepared: live((info) => this.dispatch({ type: "run/prepared", runDir: info.runDir, engine: info.engine, eager: info.eager })),
        step: live((event) => this.dispatch({ type: "run/step", event })),
        done: live((summary) => {
          this.dispatch({ type: "run/done", summary });
          end();
        }),
        failed: live((message, refused) => {
          // (the executor's message may quote the worker's output: printed escaped, as execute does)
          this.dispatch({ type: "run/failed", message: printable(message), refused });
          end();
        }),
      },
    );
    this.dispatch({ type: "run/note", note: h.note });
    if (this.state.run?.status === "preparing" || this.state.run?.status === "running") this.cancelRun = h.cancel;
  }

  private stopRun(): void {
    if (!this.cancelRun) return;
    this.cancelRun();
    // The run's status says "stopping…" until it ends, then "stopped" (no message left behind).
    this.dispatch({ type: "run/stop" });
  }

  private back(): void {
    const screen = screenOf(this.state);
    if (!this.state.help && screen === "results") {
      this.cancelSearch?.();
      this.cancelSearch = null;
    }
    if (!this.state.help && screen === "execute" && this.cancelRun) {
      this.cancelRun();
      this.cancelRun = null;
      this.runId++;
    }
    this.dispatch({ type: "back" });
  }

  /** Stop whatever runs (search, executor run). */
  dispose(): void {
    this.cancelSearch?.();
    this.cancelSearch = null;
    this.cancelRun?.();
    this.cancelRun = null;
  }
}
