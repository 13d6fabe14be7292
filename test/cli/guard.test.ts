// The guard of issue 17: generated flag sets and model/profile files, valid and invalid, driven
// through the CLI's entry function (plan, export) and a handful of spawned runs of each command.
// Every run ends within seconds, exits with a documented status, prints no stack trace, and a
// plan printed on 0 has the parameter count of an independent count of the model file.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "paraplan-guard-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** No stack frames, no internal error. */
const clean = (text: string) => !/^\s+at /m.test(text) && !/internal error/i.test(text);

/** Parameters of a model file, counted here from its fields alone (README "Inputs"): per layer
 *  the Q, K, V and output projections (K and V with kvHeads·hidden/heads columns each), the MLP
 *  (two matrices for gelu, three for swiglu), and for GPT-style models (learned positions) biases
 *  on every projection and two LayerNorms (weight and bias); Llama-style (rope) ones have two
 *  RMSNorms (weight) and no biases; then the embedding, the learned positions (one row per
 *  position of the sequence length), the output layer unless tied, and the final norm. */
function independentParams(f: Record<string, unknown>, seq: number): number {
  const h = f.hidden as number;
  const heads = f.heads as number;
  const kv = (f.kvHeads as number | undefined) ?? heads;
  // A file without mlp or positional means gelu and learned (the model-file schema's defaults).
  const gelu = (f.mlp ?? "gelu") === "gelu";
  const ffn = (f.ffnHidden as number | undefined) ?? (gelu ? 4 * h : 256 * Math.ceil((8 * h) / 3 / 256));
  const gpt = (f.positional ?? "learned") === "learned";
  const kvWidth = 2 * kv * (h / heads);
  const q = h * h, k_v = h * kvWidth, o = h * h;
  const mlp = (gelu ? 2 : 3) * h * ffn;
  const biases = gpt ? h + kvWidth + h + (gelu ? ffn : 2 * ffn) + h : 0;
  const norms = gpt ? 2 * (h + h) : 2 * h;
  const perLayer = q + k_v + o + mlp + biases + norms;
  const V = f.vocab as number;
  const embedding = V * h + (gpt ? seq * h : 0) + (f.tiedEmbeddings ? 0 : V * h);
  return (f.layers as number) * perLayer + embedding + (gpt ? 2 * h : h);
}

// Numbers as a user might type them: small valid ones mostly, some negative, huge, fractional or not numbers.
const bad = fc.constantFrom("-1", "0", "-0", "1.5", "abc", "", "1e3", "0x10", "9007199254740993", "99999999999999999999", "2147483649", " 8", "-");
const small = (max: number) => fc.integer({ min: 1, max }).map(String);
const flagValue = (max: number) => fc.oneof({ weight: 6, arbitrary: small(max) }, { weight: 1, arbitrary: bad });

const FLAGS: Record<string, fc.Arbitrary<string>> = {
  gpus: flagValue(64),
  "global-batch": flagValue(256),
  seq: flagValue(2048),
  tp: flagValue(8),
  pp: flagValue(8),
  dp: flagValue(8),
  vpp: flagValue(4),
  zero: fc.oneof(fc.integer({ min: 0, max: 3 }).map(String), bad),
  "micro-batch": flagValue(8),
  recompute: fc.constantFrom("none", "selective", "full", "most"),
  schedule: fc.constantFrom("1f1b", "interleaved", "gpipe", "zigzag"),
  top: flagValue(20),
  // Simulation is the slow part: few plans, at most 4.
  "simulate-top": fc.oneof(fc.constantFrom("0", "1", "4"), bad),
};

/** Some of FLAGS, each as `--flag value` or `--flag=value`. */
const flagSet = fc
  .array(fc.tuple(fc.constantFrom(...Object.keys(FLAGS)), fc.boolean()), { maxLength: 5 })
  .chain((picks) =>
    fc.tuple(...picks.map(([k, joined]) => FLAGS[k]!.map((v) => (joined ? [`--${k}=${v}`] : [`--${k}`, v])))).map((parts) => parts.flat()),
  );

// Model files: a coherent small model, then perhaps a field dropped, replaced or added.
const coherentModel = fc
  .record({
    layers: fc.integer({ min: 1, max: 8 }),
    headDim: fc.constantFrom(16, 32, 64),
    heads: fc.constantFrom(1, 2, 4, 8),
    group: fc.constantFrom(1, 2, 4),
    vocab: fc.integer({ min: 64, max: 4096 }),
    seqLen: fc.integer({ min: 16, max: 1024 }),
    mlp: fc.constantFrom("gelu", "swiglu"),
    positional: fc.constantFrom("learned", "rope"),
    tiedEmbeddings: fc.boolean(),
    ffn: fc.option(fc.integer({ min: 16, max: 2048 })),
    withKv: fc.boolean(),
  })
  .map((r) => {
    const m: Record<string, unknown> = {
      name: "guard",
      layers: r.layers,
      hidden: r.heads * r.headDim,
      heads: r.heads,
      vocab: r.vocab,
      seqLen: r.seqLen,
      mlp: r.mlp,
      positional: r.positional,
      tiedEmbeddings: r.tiedEmbeddings,
    };
    if (r.withKv) m.kvHeads = Math.max(1, r.heads / r.group);
    if (r.ffn !== null) m.ffnHidden = r.ffn;
    return m;
  });
// (Model-file values beyond the schema's bounds, such as layers 1e12, are h6's part of issue 17:
// the replacements stay within what the schema either refuses at once or plans quickly.)
const oddValue = fc.constantFrom<unknown>(-1, 0, 1.5, "64", null, true, [], {}, 1e6, -1e9);
const modelFile = fc.oneof(
  { weight: 4, arbitrary: coherentModel },
  {
    weight: 1,
    arbitrary: fc.tuple(coherentModel, fc.constantFrom("layers", "hidden", "heads", "vocab", "seqLen", "mlp", "positional", "name", "kvHeads"), oddValue, fc.boolean()).map(
      ([m, key, v, drop]) => {
        const out = { ...m };
        if (drop) delete out[key];
        else out[key] = v;
        return out;
      },
    ),
  },
  { weight: 1, arbitrary: coherentModel.map((m) => ({ ...m, extraField: 1 })) },
);

const profileFile = fc.constantFrom<unknown>(
  null, // the built-in default
  { name: "g", extends: "dgx-h100" },
  { name: "g", extends: "a100-pcie", gpu: { memory: "40 GiB" } },
  { name: "g", extends: "dgx-h100", gpu: { memory: "-5 GiB" } },
  { name: "g", extends: "no-such-profile" },
  { name: "g" },
  "not json {",
);

let n = 0;
function write(content: unknown): string {
  const path = join(dir, `f${n++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** The sequence length a plan of this model uses: --seq's (the last given), else the file's. */
function seqOf(flags: string[], model: Record<string, unknown>): number {
  let seq = model.seqLen as number;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (f.startsWith("--seq=")) seq = Number(f.slice(6));
    else if (f === "--seq") seq = Number(flags[i + 1]);
  }
  return seq;
}

describe("guard: generated inputs through the CLI's entry function", () => {
  it("plan and export: every run quick, a documented status, no stack trace, true parameter counts", async () => {
    let planned = 0;
    await fc.assert(
      fc.asyncProperty(modelFile, profileFile, flagSet, fc.constantFrom("plan", "export"), async (model, profile, flags, command) => {
        const argv = [command, "--model", write(model), ...(profile === null ? [] : ["--profile", write(profile)]), ...flags];
        if (command === "plan") argv.push("--json");
        else argv.push("--format", "megatron");
        const t0 = performance.now();
        const r = await runCli(argv);
        const ms = performance.now() - t0;
        const what = `${argv.join(" ")} → ${r.code}: ${r.stderr.slice(0, 300)}`;
        expect(ms, what).toBeLessThan(5000);
        expect([0, 1, 2], what).toContain(r.code);
        expect(clean(r.stdout) && clean(r.stderr), what).toBe(true);
        if (r.code === 2) expect(r.stderr.split("\n").filter((l) => l.startsWith("paraplan: ")).length, what).toBeGreaterThan(0);
        if (r.code === 0 && command === "plan") {
          planned++;
          const json = JSON.parse(r.stdout) as { model: { params: number } };
          expect(json.model.params, what).toBe(independentParams(model, seqOf(flags, model)));
        }
      }),
      // A fixed seed: the same 250 inputs on every run, so the count below is a fact of the
      // generators, not of the draw (an unseeded run once reached only 9 plans and failed CI).
      { numRuns: 250, seed: 20261202 },
    );
    expect(planned).toBeGreaterThan(10); // the generators reach plans, not only refusals
  }, 120_000);
});

describe("guard: spawned runs of each command", () => {
  const cli = join(process.cwd(), "dist/src/cli.js");
  const spawned = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 15_000, env: { ...process.env, PARAPLAN_PYTHON: "/nonexistent/python" } });
    return { ...r, ms: performance.now() - t0 };
  };
  const runDir = () => join(dir, `run${n++}`);
  const CASES: Array<[string[], number[]]> = [
    [["plan", "--model", "tiny"], [0]],
    [["plan", "--model", "gpt3-like", "--gpus", "9007199254740993"], [2]],
    [["plan", "--model", "tiny", "--gpus", "-1"], [2]],
    [["plan", "--model", "llama3-70b", "--gpus", "1048576", "--global-batch", "2147483648"], [0, 1]],
    [["export", "--format", "megatron", "--model", "tiny"], [0]],
    [["export", "--format", "torchrun", "--model", "tiny", "--global-batch", "99999999999999999999"], [2]],
    [["execute", "--print-launch", "--device", "cpu", "--model", "tiny", "--gpus", "2"], [0, 1, 2, 3, 4]],
    [["execute", "--print-launch", "--profile", "dgx-h100", "--gpus", "16", "--nnodes", "2", "--rdzv-endpoint", "127.0.0.1:29500", "--model", "tiny"], [0, 1, 2, 3, 4]],
    [["execute", "--model", "tiny", "--steps", "-5"], [2]],
    [["profile", "--gpus", "-1"], [2]],
    [["profile", "--device", "cpu", "--ranks", "99999999999999999999"], [2]],
    [["calibrate", join(tmpdir(), "paraplan-no-such-run")], [2]],
  ];
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error("dist/src/cli.js is missing: npm run build first");
  });
  it.each(CASES)("paraplan %j ends in seconds with a documented status and no stack trace", (args, statuses) => {
    const argv = args[0] === "execute" ? [...args, "--run-dir", runDir()] : args;
    const r = spawned(argv);
    const what = `${argv.join(" ")} → ${r.status} ${r.signal ?? ""}: ${(r.stderr ?? "").slice(0, 300)}`;
    expect(r.signal, what).toBeNull();
    expect(statuses, what).toContain(r.status);
    expect(r.ms, what).toBeLessThan(10_000);
    expect(clean(r.stdout ?? "") && clean(r.stderr ?? ""), what).toBe(true);
  });
});
