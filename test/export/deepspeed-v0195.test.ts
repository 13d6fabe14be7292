// DeepSpeed v0.19.5's ds_config keys (src/engines/ds-release-keys.ts): every key of
// fixtures/deepspeed-v0.19.5.txt is known; the 16 the older list lacks are each accepted with a
// reason or refused where they change the step; `plan --from` prices a harmless one as the file
// without it and refuses ZenFlow naming the key.
import { afterAll, describe, expect, it } from "vitest";
import { recorded, removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";
import { DEEPSPEED_KEYS } from "../../src/engines/known-keys.js";
import { DEEPSPEED_KNOWN, DEEPSPEED_V0195_KEYS, DEEPSPEED_V0195_NEUTRAL, DEEPSPEED_V0195_REFUSED } from "../../src/engines/ds-release-keys.js";

afterAll(removeTemp);

describe("DeepSpeed v0.19.5's keys", () => {
  it("every recorded key is known; the new ones are exactly those placed, each once", () => {
    const v0195 = recorded("deepspeed-v0.19.5.txt");
    expect(v0195.size).toBe(81);
    for (const k of v0195) expect(DEEPSPEED_KNOWN.has(k), k).toBe(true);
    const fresh = [...v0195].filter((k) => !DEEPSPEED_KEYS.has(k)).sort();
    expect(fresh).toEqual([...DEEPSPEED_V0195_KEYS].sort());
    // 5 accepted with a reason, 11 refused where set
    expect([Object.keys(DEEPSPEED_V0195_NEUTRAL).length, Object.keys(DEEPSPEED_V0195_REFUSED).length]).toEqual([5, 11]);
    for (const k of Object.keys(DEEPSPEED_V0195_NEUTRAL)) expect(Object.hasOwn(DEEPSPEED_V0195_REFUSED, k), k).toBe(false);
  });
});

const file = fileWriter("deepspeed-v0195");
const BASE = { train_micro_batch_size_per_gpu: 1, gradient_accumulation_steps: 4, bf16: { enabled: true }, zero_optimization: { stage: 3 } };
const argv = (ds: object) => ["--model", "llama3-8b", "--gpus", "8", "--from", file("json", JSON.stringify(ds, null, 1))];
type Json = { from: { plan: { tokensPerSecond: number; memory: { total: number } }; notes: string[]; warnings: string[] } };

describe("plan --from a v0.19.5 ds_config", () => {
  it("log_level, the bf16 overflow check and the renamed Ulysses dtype: no warning, the same prediction", async () => {
    const base = (await accepted(argv(BASE))) as unknown as Json;
    const r = (await accepted(argv({ ...BASE, log_level: "info", seq_parallel_communication_data_type: "fp32", bf16: { enabled: true, check_grad_overflow: false } }))) as unknown as Json;
    expect(r.from.warnings).toEqual([]);
    expect(r.from.plan.tokensPerSecond).toBe(base.from.plan.tokensPerSecond);
    expect(r.from.plan.memory.total).toBe(base.from.plan.memory.total);
  });
  it("ZenFlow and sequential ZeRO-3 gathers are exit 2 naming the key; the gathers below stage 3 are a note", async () => {
    await refused(argv({ ...BASE, zero_optimization: { stage: 3, zenflow: { topk_ratio: 0.1 } } }), "zero_optimization.zenflow", "to the CPU (ZenFlow)", "which paraplan does not model");
    await refused(argv({ ...BASE, zero_optimization: { stage: 3, stage3_allgather_sequential: true } }), "zero_optimization.stage3_allgather_sequential", "one at a time");
    const z2 = (await accepted(argv({ ...BASE, zero_optimization: { stage: 2, stage3_allgather_sequential: true } }))) as unknown as Json;
    expect(z2.from.notes.join("\n")).toContain("zero_optimization.stage3_allgather_sequential");
    expect(z2.from.notes.join("\n")).toContain("at stage 2 it changes nothing");
    // false is DeepSpeed's default: nothing to refuse
    expect(((await accepted(argv({ ...BASE, zero_optimization: { stage: 3, allgather_sequential: false, enable_sanity_checks: false } }))) as unknown as Json).from.warnings).toEqual([]);
  });
});
