// `plan --from` a Megatron-LM file's mixture-of-experts arguments beyond the experts' shape
// (src/engines/megatron-moe-flags.ts): every MoE flag is read into the price, refused by name
// (exit 2, one line), or listed as changing nothing paraplan prices; none is priced as if absent
// while it changes time or memory. Line numbers: @ core_v0.14.0 unless said otherwise.
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cli, recorded, removeTemp } from "./helpers.js";
import { MIXTRAL_MEGATRON, accepted, fileWriter, refused } from "./from-cli.js";
import { MEGATRON_FLAGS } from "../../src/engines/known-names.js";
import { NOT_EXPRESSIBLE } from "../../src/engines/megatron-refusals.js";
import { MOE_NEUTRAL, MOE_READ } from "../../src/engines/megatron-moe-flags.js";
import { packageRoot } from "../../src/load.js";

afterAll(removeTemp);

const file = fileWriter("from-moe-flags");

/** Mixtral 8x7B on 64 GPUs as the alltoall dispatcher and grouped GEMM paraplan prices run it:
 *  tp 8, pp 2, vpp 4, ep 8 (33 lines; a flag added is line 34). */
const MIXTRAL = [...MIXTRAL_MEGATRON, "--bf16", "--moe-token-dispatcher-type alltoall", "--moe-grouped-gemm", "--expert-model-parallel-size 8"];
const mixtralModel = JSON.parse(readFileSync(join(packageRoot(), "profiles", "models", "mixtral-8x7b.json"), "utf8"));
const on = (lines: string[], model = "mixtral-8x7b", drop: string[] = []) =>
  ["--model", model, "--gpus", "64", "--from", file("txt", [...MIXTRAL.filter((l) => !drop.some((d) => l.startsWith(d))), ...lines].join("\n") + "\n")];
type Json = { from: { plan: { tokensPerSecond: number; memory: { total: number } }; notes: string[]; warnings: string[] } };
const json = async (argv: string[]) => (await accepted(argv)) as unknown as Json;

describe("every Megatron-LM MoE flag is read, refused or listed as changing nothing paraplan prices", () => {
  it("the flags of known-names.ts with moe, expert or mtp in their name, each in exactly one place, each a recorded Megatron-LM flag", () => {
    const moeFlags = [...MEGATRON_FLAGS].filter((f) => /moe|expert|^mtp-/.test(f));
    // (27 in _add_moe_args' moe-* names alone: arguments.py:2774-2898)
    expect(moeFlags.length).toBeGreaterThan(40);
    // (one refused for some values only, NOT_EXPRESSIBLE's `when`, is neutral for the others:
    // --moe-router-dtype fp64 refused, fp32 neutral)
    const places = (f: string) => [MOE_READ.includes(f), Object.hasOwn(NOT_EXPRESSIBLE, f) && NOT_EXPRESSIBLE[f]!.when === undefined, Object.hasOwn(MOE_NEUTRAL, f)].filter(Boolean).length;
    for (const f of moeFlags) expect(places(f), f).toBe(1);
    const known = new Set([...recorded("megatron-lm-core_r0.14.txt"), ...recorded("megatron-lm-core_v0.7.0.txt")]);
    for (const f of [...MOE_READ, ...Object.keys(MOE_NEUTRAL)]) expect(known.has(`--${f}`), f).toBe(true);
  });
});

describe("flags that change time or memory paraplan does not price: refused by name, with their line", () => {
  it("jitter, probabilities on the input, an fp64 router, fp8 router padding, core_v0.7's extended tp", async () => {
    const cases: [string, string][] = [
      // router.py:368-385: fp32 noise × input, both kept for backward
      ["--moe-input-jitter-eps 0.01", "--moe-input-jitter-eps (line 34) multiplies each MoE layer's router input by fp32 noise"],
      ["--moe-apply-probs-on-input", "--moe-apply-probs-on-input (line 34) scales each routed copy"],
      ["--moe-router-dtype fp64", "--moe-router-dtype fp64 (line 34) runs the router's GEMMs and the unpermutation in fp64"],
      ["--moe-router-padding-for-fp8", "--moe-router-padding-for-fp8 (line 34) routes extra copies"],
      ["--moe-extended-tp", "--moe-extended-tp (line 34) splits the experts over tp·ep in core_v0.7"],
    ];
    for (const [extra, says] of cases) await refused(on([extra]), says, "which paraplan does not model");
  });

  it("shared experts beside the all-to-all on a stream of their own: the engine's moe.sharedExpertOverlap (up beside the dispatch, down beside the combine, both passes); without shared experts the flag builds nothing", async () => {
    // Mixtral with one shared expert of the routed width: --moe-shared-expert-intermediate-size 1·14336.
    const shared = file("json", JSON.stringify({ ...mixtralModel, name: "mixtral-shared", moe: { ...mixtralModel.moe, sharedExperts: 1 } }));
    const withShared = ["--moe-shared-expert-intermediate-size 14336"];
    const after = await json(on(withShared, shared));
    const beside = await json(on([...withShared, "--moe-shared-expert-overlap"], shared));
    // The same step as the default engine with the field set in an engine file (MEGATRON_SHARED_OVERLAP).
    const engine = file("json", JSON.stringify({ name: "mcore-shared-overlap", extends: "megatron-core", description: "Megatron-Core with --moe-shared-expert-overlap", moe: { sharedExpertOverlap: { value: { dispatch: "up", combine: "down", backward: true }, source: "shared_experts.py @ core_v0.14.0" } } }));
    const viaEngine = await json(["--engine", engine, ...on(withShared, shared)]);
    expect(beside.from.plan.tokensPerSecond).toBe(viaEngine.from.plan.tokensPerSecond);
    // Hidden all-to-all: a faster step, by at most the shared experts' work beside it (the
    // all-to-alls stay, only their overlap with a compute that was there before changes).
    const ep = (j: Json) => (j.from.plan as unknown as { time: { epComm: number; step: number } }).time;
    expect(ep(beside).epComm).toBeLessThan(ep(after).epComm);
    // The step falls by the all-to-alls hidden, with the bubble's share of them: (p − 1)/(v·m) =
    // 1/(4·16) at pp 2, vpp 4, 64/(8·2) = 4 data-parallel ranks and 64/4 = 16 micro-batches.
    expect(ep(after).step - ep(beside).step).toBeCloseTo((ep(after).epComm - ep(beside).epComm) * (1 + 1 / 64), 9);
    // (Megatron raises beside the allgather dispatcher: transformer_config.py:771-776)
    // (at ep 1, where paraplan prices any dispatcher: no token leaves its rank)
    await refused(on([...withShared, "--moe-shared-expert-overlap", "--moe-token-dispatcher-type allgather", "--expert-model-parallel-size 1"], shared, ["--moe-token-dispatcher-type", "--expert-model-parallel-size"]), "--moe-shared-expert-overlap (line 33) with the allgather dispatcher", "transformer_config.py:771-776");
    // (and beside the 1F1B all-to-all overlap: transformer_config.py:1332-1334)
    await refused(on([...withShared, "--moe-shared-expert-overlap", "--overlap-moe-expert-parallel-comm"], shared), "with --moe-shared-expert-overlap (line 35)", "1332-1334");
    // moe_layer.py:68-69: no shared expert without the width, nothing to overlap: the same step.
    const base = await json(on([]));
    const none = await json(on(["--moe-shared-expert-overlap"]));
    expect(none.from.plan.tokensPerSecond).toBe(base.from.plan.tokensPerSecond);
    expect(none.from.notes.join("\n")).toContain("--moe-shared-expert-overlap (line 34) changes nothing without shared experts");
  });

  it("the legacy GroupedMLP under fp8 runs the experts in 16 bits; under bf16 it is the same grouped GEMM", async () => {
    await refused(on(["--moe-use-legacy-grouped-gemm", "--fp8-format hybrid"]), "--moe-use-legacy-grouped-gemm (line 34) under fp8", "runs the experts' GEMMs in 16 bits");
    expect((await json(on(["--moe-use-legacy-grouped-gemm"]))).from.plan.tokensPerSecond).toBe((await json(on([]))).from.plan.tokensPerSecond);
  });
});

describe("router settings Megatron refuses at start: exit 2, not priced as a run that trains", () => {
  it("expert bias needs a sigmoid router; group-limited routing needs its groups to divide the experts", async () => {
    await refused(on(["--moe-router-enable-expert-bias"]), "--moe-router-enable-expert-bias (line 34) with the softmax score function", "transformer_config.py:1200-1204");
    await refused(on(["--moe-router-group-topk 2"]), "--moe-router-group-topk 2 (line 34) without --moe-router-num-groups", "transformer_config.py:1246-1249");
    // 8 experts in 3 groups: 8 % 3 = 2
    await refused(on(["--moe-router-num-groups 3", "--moe-router-group-topk 2"]), "--moe-router-num-groups 3 (line 34) does not divide --num-experts 8");
    await refused(on(["--moe-router-num-groups 2", "--moe-router-group-topk 4"]), "--moe-router-group-topk 4 (line 35) is more than --moe-router-num-groups 2 (line 34)");
    // sinkhorn asserts moe_aux_loss_coeff == 0 (router.py:188)
    await refused(on(["--moe-router-load-balancing-type sinkhorn", "--moe-aux-loss-coeff 0.01"]), "--moe-router-load-balancing-type sinkhorn (line 34) with --moe-aux-loss-coeff 0.01 (line 35)");
  });

  it("top-1 under softmax needs --moe-router-pre-softmax (transformer_config.py:1230-1238); the export writes it and reads back", async () => {
    const top1 = file("json", JSON.stringify({ ...mixtralModel, name: "mixtral-top1", moe: { ...mixtralModel.moe, topK: 1 } }));
    await refused(on(["--moe-router-topk 1"], top1, ["--moe-router-topk"]), "--moe-router-topk 1 (line 33) with a softmax router and no --moe-router-pre-softmax");
    expect((await json(on(["--moe-router-topk 1", "--moe-router-pre-softmax"], top1, ["--moe-router-topk"]))).from.plan).toBeDefined();
    const e = await cli(["export", "--format", "megatron", "--model", top1, "--gpus", "64"]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--moe-router-pre-softmax$/m);
    // two experts a token (Mixtral's own top-2) need none
    expect((await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64"])).stdout).not.toContain("--moe-router-pre-softmax");
  });
});

describe("flags that change nothing paraplan prices: accepted, the same step", () => {
  it("routing choices, loss weights, the fp32 router, fused permutation, upcycling: the step and memory of the file without them", async () => {
    const base = await json(on([]));
    for (const extra of [
      ["--moe-router-dtype fp32"], ["--moe-router-num-groups 4", "--moe-router-group-topk 2"], ["--moe-router-pre-softmax"],
      ["--moe-router-topk-scaling-factor 2.5"], ["--moe-aux-loss-coeff 0.01"], ["--moe-z-loss-coeff 0.001"],
      ["--moe-router-load-balancing-type seq_aux_loss"], ["--moe-router-load-balancing-type sinkhorn"], ["--moe-permute-fusion"],
      ["--moe-use-upcycling", "--moe-upcycling-granularity 2"], ["--moe-token-drop-policy position"],
    ]) {
      const r = await json(on(extra));
      expect(r.from.plan.tokensPerSecond, extra.join(" ")).toBe(base.from.plan.tokensPerSecond);
      expect(r.from.plan.memory.total, extra.join(" ")).toBe(base.from.plan.memory.total);
    }
  });
});

describe("a router left unbalanced is said, not priced silently at a balanced router's load", () => {
  // Megatron's --moe-aux-loss-coeff defaults to 0.0 (arguments.py:2860), which balances nothing,
  // while paraplan prices the busiest expert rank at --moe-imbalance 1.25.
  const note = (r: Json) => r.from.notes.find((n) => n.includes("no load balancing"));
  it("no coefficient (the release's 0.0), a coefficient 0 or the type none: a note naming it", async () => {
    expect(note(await json(on([])))).toContain("--moe-aux-loss-coeff left at Megatron's default 0.0");
    expect(note(await json(on(["--moe-aux-loss-coeff 0"])))).toContain("--moe-aux-loss-coeff 0 (line 34)");
    expect(note(await json(on(["--moe-router-load-balancing-type none", "--moe-aux-loss-coeff 1e-2"])))).toContain("--moe-router-load-balancing-type none");
    // paired lists (core_r0.14 nargs='+'): the aux loss at 0 beside a type none balances nothing
    expect(note(await json(on(["--moe-router-load-balancing-type none aux_loss", "--moe-aux-loss-coeff 1e-2 0"])))).toContain("--moe-aux-loss-coeff 1e-2 0");
  });
  it("an auxiliary loss above 0, sinkhorn or random routing: balanced, no note", async () => {
    expect(note(await json(on(["--moe-aux-loss-coeff 1e-2"])))).toBeUndefined();
    expect(note(await json(on(["--moe-router-load-balancing-type seq_aux_loss", "--moe-aux-loss-coeff 1e-4"])))).toBeUndefined();
    expect(note(await json(on(["--moe-router-force-load-balancing"])))).toBeUndefined();
    // core_v0.19.0's types (router.py @ core_v0.19.0): global_aux_loss is an auxiliary loss as
    // aux_loss is; quantile_balancing balances by a per-expert bias, without a coefficient
    expect(note(await json(on(["--moe-router-load-balancing-type global_aux_loss", "--moe-aux-loss-coeff 1e-3"])))).toBeUndefined();
    expect(note(await json(on(["--moe-router-load-balancing-type quantile_balancing"])))).toBeUndefined();
    expect(note(await json(on(["--moe-router-load-balancing-type global_aux_loss"])))).toContain("--moe-aux-loss-coeff left at Megatron's default 0.0");
  });
});

describe("the flex dispatcher with DeepEP is read as the deepep dispatcher (moe-args.ts flexDispatcher)", () => {
  const flex = ["--moe-token-dispatcher-type flex", "--moe-enable-deepep"];
  const noA2a = ["--moe-token-dispatcher-type"];
  it("accepted, the engine line saying so; Mixtral's ep 8 sits in one node, where nothing deduplicates: the alltoall step", async () => {
    const r = await cli(["plan", ...on(flex, "mixtral-8x7b", noA2a)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("DeepEP dispatcher");
    expect((await json(on(flex, "mixtral-8x7b", noA2a))).from.plan.tokensPerSecond).toBe((await json(on([]))).from.plan.tokensPerSecond);
  });
  it("what Megatron requires beside it: flex only with DeepEP, DeepEP only under flex, no expert tensor parallel under flex (DeepEP over etp·ep)", async () => {
    await refused(on(["--moe-token-dispatcher-type flex"], "mixtral-8x7b", noA2a), "--moe-token-dispatcher-type flex (line 33) without --moe-enable-deepep", "token_dispatcher.py:1164-1166");
    await refused(on(["--moe-enable-deepep"]), "--moe-enable-deepep (line 34) with --moe-token-dispatcher-type alltoall (line 31)", "transformer_config.py:754-756");
    await refused(on(flex, "mixtral-8x7b", [...noA2a, "--expert-tensor-parallel-size"]), "--moe-token-dispatcher-type flex (line 32) with --expert-tensor-parallel-size 8", "which paraplan does not price");
  });
  it("the file's group-limited routing must be the model's under DeepEP (it sets the nodes a token reaches); under alltoall it changes nothing", async () => {
    const groups = ["--moe-router-num-groups 4", "--moe-router-group-topk 2"];
    await refused(on([...flex, ...groups], "mixtral-8x7b", noA2a), "routes with 2 of 4 groups a token", "the model mixtral-8x7b with no group limit");
    expect((await json(on(groups))).from.plan.tokensPerSecond).toBe((await json(on([]))).from.plan.tokensPerSecond);
  });
});

describe("--overlap-moe-expert-parallel-comm is read as the engine's all-to-all overlap (megatron-moe-flags.ts moeOverlap)", () => {
  const overlap = "--overlap-moe-expert-parallel-comm";
  it("accepted under the interleaved pipeline Mixtral's file runs (pp 2, vpp 4): the header says so and the all-to-alls cost less, the rest of the step as before", async () => {
    const r = await cli(["plan", ...on([overlap])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("expert all-to-all overlapped");
    type T = { time: { epComm: number; compute: number } };
    const base = (await json(on([]))).from.plan as unknown as T;
    const hid = (await json(on([overlap, "--delay-wgrad-compute"]))).from.plan as unknown as T;
    expect(hid.time.epComm).toBeLessThan(base.time.epComm);
    expect(hid.time.compute).toBe(base.time.compute);
  });
  it("what Megatron asserts beside it (transformer_config.py:1298-1346 @ core_v0.14.0): a virtual pipeline at pp > 1, no full recompute, at most one MTP layer; --delay-wgrad-compute only with it", async () => {
    await refused(on([overlap], "mixtral-8x7b", ["--num-virtual-stages-per-pipeline-rank"]), "with pp 2 and no virtual pipeline", "1303-1307");
    await refused(on([overlap, "--recompute-granularity full", "--recompute-method uniform", "--recompute-num-layers 1"]), "with full recompute", "1317-1319");
    await refused(on(["--delay-wgrad-compute"]), "--delay-wgrad-compute (line 34) without --overlap-moe-expert-parallel-comm", "1340-1343");
  });
});
