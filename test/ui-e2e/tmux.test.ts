// End to end: the built CLI (`node dist/src/cli.js`, no arguments) in a real terminal, tmux at
// 80 × 24: Enter at the setup → the ranked plans → a plan's detail → export → back → quit, and
// the process ends. Without a terminal the same command prints the usage and exits 0.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { search } from "../../planner/index.js";
import { buildRequest } from "../../src/plan-request.js";
import { parsePlanArgs } from "../../src/plan-args.js";
import { planSlug } from "../../src/ui/core/export.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "dist", "src", "cli.js");
const SOCKET = `paraplan-ui-e2e-${process.pid}`;
const SESSION = "ui";

/** tmux installed, and able to start a server here (a sandbox may forbid its daemon: "server
 *  exited unexpectedly" for any session, paraplan's or not): probed with a session of `true`. */
function tmuxWorks(): string | null {
  if (spawnSync("tmux", ["-V"]).status !== 0) return "tmux is not installed (apt-get install -y tmux)";
  const probe = `paraplan-ui-e2e-probe-${process.pid}`;
  const r = spawnSync("tmux", ["-L", probe, "new-session", "-d", "-s", "probe", "sleep 1"], { encoding: "utf8" });
  spawnSync("tmux", ["-L", probe, "kill-server"]);
  return r.status === 0 ? null : `tmux cannot start a server on this machine (${(r.stderr || "").trim() || `exit ${r.status}`})`;
}
const TMUX_MISSING = tmuxWorks();
const HAS_TMUX = TMUX_MISSING === null;

if (!HAS_TMUX) console.warn(`test/ui-e2e: ${TMUX_MISSING}; the terminal test is skipped`);

/** The sources of the interactive planner, newer than their compiled files? */
function distIsStale(): boolean {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  for (const src of [join(ROOT, "src", "cli.ts"), ...walk(join(ROOT, "src", "ui"))]) {
    if (!/\.tsx?$/.test(src)) continue;
    const out = join(ROOT, "dist", relative(ROOT, src)).replace(/\.tsx?$/, ".js");
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) return true;
  }
  return false;
}

const tmux = (...args: string[]) => execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-t", SESSION);
const press = (...keys: string[]) => tmux("send-keys", "-t", SESSION, ...keys);

async function waitForScreen(ok: (s: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    last = screen();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; the screen:\n${last}`);
}

let cwd = "";
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), "paraplan-ui-e2e-"));
  if (!existsSync(CLI) || distIsStale()) spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore", timeout: 240_000 });
}, 250_000);

afterAll(() => {
  if (HAS_TMUX) spawnSync("tmux", ["-L", SOCKET, "kill-server"], { stdio: "ignore" });
  rmSync(cwd, { recursive: true, force: true });
});

describe("paraplan with no arguments", () => {
  it("prints the usage and exits 0 without a terminal", () => {
    const r = spawnSync(process.execPath, [CLI], { cwd, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^paraplan — how should I split this model on this cluster\?\n\nusage:\n {2}paraplan {2,}the interactive planner, in a terminal\n {2}paraplan ui .*\n {2}paraplan plan --model/);
  });

  it.skipIf(!HAS_TMUX)("opens the interactive planner in tmux: setup → results → detail → export → back → quit", async () => {
    // ink draws only the final frame when CI is set (is-in-ci); the pane is a real terminal.
    tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", "-c", cwd, `sh -c 'env -u CI -u CONTINUOUS_INTEGRATION "${process.execPath}" "${CLI}"; echo $? > "${join(cwd, "exit-status")}"'`, ";", "set-option", "-t", SESSION, "remain-on-exit", "on");
    const setup = await waitForScreen((s) => s.includes("paraplan · setup"), "the setup screen");
    expect(setup).toMatch(/Model\s+‹ gpt3-like \(175B parameters\) ›/);
    expect(setup).toContain("1,024 GPUs = 128 nodes × 8");

    // Narrower than the layout: the message saying so (ink first draws the old frame at the new
    // width, whose wrapped lines it does not all erase: a few may stay above); back to 80 × 24,
    // the setup again, whole.
    tmux("resize-window", "-t", SESSION, "-x", "50", "-y", "30");
    const small = await waitForScreen((s) => /have\s+50×30/.test(s), "the too-small message");
    expect(small).toMatch(/^terminal too small: need at least 60×20,\s+have\s+50×30 \(enlarge it; q quits\)$/m);
    expect(small).not.toMatch(/Sequence|Global batch/);
    tmux("resize-window", "-t", SESSION, "-x", "80", "-y", "24");
    const again = await waitForScreen((s) => s.startsWith("paraplan · setup") && !s.includes("too small") && s.includes("1,024 GPUs"), "the setup after the resize");
    expect(again).toMatch(/Model\s+‹ gpt3-like \(175B parameters\) ›/);

    press("Enter");
    const results = await waitForScreen((s) => s.includes("done in"), "the finished search", 120_000);
    const req = buildRequest(parsePlanArgs(["--model", "gpt3-like"]));
    const whole = search(req.model, req.hw, req.training, {}, { top: 1 });
    const top = whole.plans[0]!;
    expect(results).toContain(`${whole.feasible.toLocaleString("en-US")} feasible`);
    expect(results).toMatch(/^\s*# tp pp\s+dp Z\s+mb recomp/m);
    expect(results).toMatch(new RegExp(`^\\s*1\\s+${top.tp}\\s+${top.pp}\\s+${top.dp}\\s+${top.zero}\\s+${top.microBatch}\\s`, "m"));
    expect(results).toMatch(/^rejected: [\d.]+k? /m);

    press("Enter");
    const detail = await waitForScreen((s) => s.includes("paraplan · plan detail"), "the plan detail");
    for (const label of ["total", "weights", "gradients", "optimizer", "activations", "other"]) expect(detail).toMatch(new RegExp(`^  ${label}\\s+[█▓▒░▪·]+`, "m"));
    expect(detail).toMatch(/^  tp  \d+ ranks?\s+NVLink 450 GB\/s/m);
    expect(detail).toMatch(/^bubble /m);

    press("e");
    const name = `plan-gpt3-like-${planSlug(top)}.json`;
    await waitForScreen((s) => s.includes(`wrote ${name}`), "the export message");
    expect(JSON.parse(readFileSync(join(cwd, name), "utf8"))).toMatchObject({ tp: top.tp, pp: top.pp, dp: top.dp, zero: top.zero });

    press("b");
    await waitForScreen((s) => s.includes("paraplan · ranked plans"), "the results again");

    press("q");
    // The shell around the CLI records its exit status (tmux's own #{pane_dead_status} is
    // sometimes left empty when tmux has not reaped the process yet).
    const statusFile = join(cwd, "exit-status");
    await waitForScreen(() => existsSync(statusFile), "the process to exit", 30_000);
    expect(readFileSync(statusFile, "utf8").trim()).toBe("0");
    // The terminal is back from the alternate screen: nothing of the planner is left on it.
    expect(screen()).not.toContain("paraplan ·");
  }, 240_000);
});
