// Megatron-LM core_v0.19.0's flags (src/engines/megatron-v019-flags.ts): every name of
// fixtures/megatron-lm-core_v0.19.0.txt is known from core_r0.14 / core_v0.7.0 or placed exactly
// once — neutral with a reason, an alias of an older name, refused by name, CPU offload (refused),
// warned as unpriced, or checked against the file's other flags — and `plan --from` a core_v0.19
// script prices a harmless new flag as the run without it and refuses one that changes the step.
import { afterAll, describe, expect, it } from "vitest";
import { removeTemp, recorded } from "./helpers.js";
import { LLAMA8B_MEGATRON, accepted, fileWriter, refused } from "./from-cli.js";
import { MEGATRON_FLAGS } from "../../src/engines/known-names.js";
import {
  MEGATRON_V019_ALIASES, MEGATRON_V019_CHECKED, MEGATRON_V019_FLAGS, MEGATRON_V019_NEUTRAL, MEGATRON_V019_OFFLOAD,
  MEGATRON_V019_REFUSED, MEGATRON_V019_REMOVED, MEGATRON_V019_UNPRICED,
} from "../../src/engines/megatron-v019-flags.js";

afterAll(removeTemp);

const strip = (s: Set<string>) => new Set([...s].map((f) => f.replace(/^--/, "")));
const v019 = strip(recorded("megatron-lm-core_v0.19.0.txt"));

describe("every core_v0.19.0 flag is placed", () => {
  it("the fixture is the parser's 845 flags (arguments.py builds many from dataclasses: a grep of add_argument finds fewer)", () => {
    expect(v019.size).toBe(845);
    // kept from core_r0.14 under the same name, and built from dataclasses in v0.19
    for (const f of ["tensor-model-parallel-size", "recompute-granularity", "use-distributed-optimizer", "optimizer", "moe-router-topk"]) expect(v019.has(f), f).toBe(true);
  });

  it("each name core_r0.14 ∪ core_v0.7.0 lacks is in exactly one place; nothing is placed that v0.19 lacks", () => {
    const fresh = [...v019].filter((f) => !MEGATRON_FLAGS.has(f));
    // 845 flags, 547 of them already known: 298 new ones
    expect(fresh.length).toBe(298);
    const neutral = Object.values(MEGATRON_V019_NEUTRAL).flat();
    const places = (f: string) =>
      [neutral.includes(f), Object.hasOwn(MEGATRON_V019_ALIASES, f), Object.hasOwn(MEGATRON_V019_REFUSED, f), MEGATRON_V019_OFFLOAD.includes(f), MEGATRON_V019_UNPRICED.includes(f), MEGATRON_V019_CHECKED.includes(f)].filter(Boolean).length;
    for (const f of fresh) expect(places(f), f).toBe(1);
    for (const f of MEGATRON_V019_FLAGS) {
      expect(v019.has(f), f).toBe(true);
      expect(MEGATRON_FLAGS.has(f), f).toBe(false);
    }
    expect(MEGATRON_V019_FLAGS.size).toBe(298);
    // the counts reported: neutral 232 (each group with its reason), aliases 10, refused 36, offload 8, unpriced 10, checked 2
    expect([neutral.length, Object.keys(MEGATRON_V019_ALIASES).length, Object.keys(MEGATRON_V019_REFUSED).length, MEGATRON_V019_OFFLOAD.length, MEGATRON_V019_UNPRICED.length, MEGATRON_V019_CHECKED.length]).toEqual([232, 10, 36, 8, 10, 2]);
  });

  it("an alias names a flag of the older lists, one argparse destination with it; the removed names are older ones v0.19 lacks", () => {
    for (const [alias, old] of Object.entries(MEGATRON_V019_ALIASES)) {
      expect(MEGATRON_FLAGS.has(old), old).toBe(true);
      expect(v019.has(old), `${alias} → ${old}`).toBe(true);
    }
    for (const f of MEGATRON_V019_REMOVED) {
      expect(MEGATRON_FLAGS.has(f), f).toBe(true);
      expect(v019.has(f), f).toBe(false);
    }
    const r14 = strip(recorded("megatron-lm-core_r0.14.txt"));
    const v07 = strip(recorded("megatron-lm-core_v0.7.0.txt"));
    // every older name v0.19 lacks is listed, so that a mixed file is told
    expect([...MEGATRON_FLAGS].filter((f) => (r14.has(f) || v07.has(f)) && !v019.has(f) && !MEGATRON_V019_REMOVED.includes(f))).toEqual([]);
  });
});

const file = fileWriter("megatron-v019");
/** Llama 3 8B in bf16 on 16 GPUs, tp 2 · dp 8, ZeRO-1 (23 lines; a flag added is line 24). */
const LLAMA8B = [...LLAMA8B_MEGATRON, "--tensor-model-parallel-size 2", "--bf16"];
const llama = (lines: string[]) => ["--model", "llama3-8b", "--gpus", "16", "--from", file("txt", [...LLAMA8B, ...lines].join("\n") + "\n")];
type Json = { from: { plan: { tokensPerSecond: number; memory: { total: number } }; notes: string[]; warnings: string[] } };
const json = async (lines: string[]) => (await accepted(llama(lines))) as unknown as Json;

describe("plan --from a core_v0.19.0 script", () => {
  it("harmless new flags are accepted without a warning and priced as the file without them", async () => {
    const base = await json([]);
    for (const extra of [
      ["--exit-signal-handler-for-training", "--log-device-memory-used"],
      ["--eval-micro-batch-size 4", "--async-strategy mcore", "--fim-data"],
      ["--use-mup", "--mup-base-hidden-size 1024"],
      ["--mlp-chunks-for-training 1", "--tensor-parallel-num-weight-shards 2"],
    ]) {
      const r = await json(extra);
      expect(r.from.warnings, extra.join(" ")).toEqual([]);
      expect(r.from.plan.tokensPerSecond, extra.join(" ")).toBe(base.from.plan.tokensPerSecond);
      expect(r.from.plan.memory.total, extra.join(" ")).toBe(base.from.plan.memory.total);
    }
  });

  it("--position-embedding-type yarn (new in v0.19) is read as rotary positions, its unfused RoPE warned as --no-rope-fusion is", async () => {
    // LLAMA8B states --position-embedding-type rope at line 8; yarn in its place prices the same model
    const rope = await json([]);
    const file2 = file("txt", LLAMA8B.map((l) => (l === "--position-embedding-type rope" ? "--position-embedding-type yarn" : l)).join("\n") + "\n");
    const yarn = (await accepted(["--model", "llama3-8b", "--gpus", "16", "--from", file2])) as unknown as Json;
    expect(yarn.from.plan.tokensPerSecond).toBe(rope.from.plan.tokensPerSecond);
    expect(yarn.from.plan.memory.total).toBe(rope.from.plan.memory.total);
    expect(yarn.from.warnings).toEqual([expect.stringContaining("--position-embedding-type yarn (line 8) applies rotary embeddings in unfused kernels")]);
  });

  it("a new flag that changes the step is exit 2 naming it, its line and what it does", async () => {
    await refused(llama(["--attention-output-gate"]), "--attention-output-gate (line 24) adds a gate", "which paraplan does not model");
    await refused(llama(["--mlp-chunks-for-training 4"]), "--mlp-chunks-for-training 4 (line 24) runs the MLP in chunks");
    await refused(llama(["--fine-grained-activation-offloading", "--offload-modules core_attn"]), "--fine-grained-activation-offloading (line 24) moves state to the CPU");
    await refused(llama(["--experimental-attention-variant gated_delta_net"]), "--experimental-attention-variant (line 24) builds another attention");
    // tp 2 with 4 shards: GTP regathers each weight over 2 more ranks (4 / 2)
    await refused(llama(["--tensor-parallel-num-weight-shards 4"]), "--tensor-parallel-num-weight-shards 4 (line 24) splits each weight into 4 shards over tp 2 × 2 ranks");
  });

  it("the fp8 weight-gradient switch, old and new spelling: exit 2 under fp8, a note without", async () => {
    for (const flag of ["--no-fp8-wgrad", "--disable-fp8-wgrad"]) {
      await refused(llama(["--fp8-format hybrid", flag]), `${flag} (line 25) runs the weight-gradient GEMMs in 16 bits under fp8`);
      expect((await json([flag])).from.notes.join("\n")).toContain(`${flag} (line 24) changes nothing without fp8`);
    }
  });

  it("an unpriced kernel is a warning; a file mixing v0.19's names with names it removed is told", async () => {
    const r = await json(["--use-transformer-engine-op-fuser"]);
    expect(r.from.warnings).toEqual([expect.stringMatching(/--use-transformer-engine-op-fuser \(line 24\) changes performance in a way paraplan does not model; ignored$/)]);
    const mixed = await json(["--log-device-memory-used", "--no-async-tensor-model-parallel-allreduce"]);
    expect(mixed.from.warnings.join("\n")).toContain("--log-device-memory-used (line 24) is a Megatron-LM core_v0.19.0 argument and --no-async-tensor-model-parallel-allreduce (line 25) one core_v0.19.0 no longer has");
    // a core_r0.14 file keeps reading as before: no v0.19 name, no warning
    expect((await json(["--no-async-tensor-model-parallel-allreduce"])).from.warnings).toEqual([]);
  });

  it("a name no release has stays a warning naming it (a typo)", async () => {
    const r = await json(["--log-device-memory-usd"]);
    expect(r.from.warnings).toEqual([expect.stringMatching(/--log-device-memory-usd \(line 24\) is not a Megatron-LM argument paraplan knows; ignored$/)]);
  });
});
