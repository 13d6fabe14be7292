// A Megatron-DeepSpeed launch script given alone to plan --from brings the DeepSpeed config its
// --deepspeed_config names (src/engines/read-back.ts). Read as Megatron-LM, it had --deepspeed and
// --deepspeed_config ignored with a warning, and the config's ZeRO stage and batch sizes lost.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-ds-script-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const put = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const script = (config: string) =>
  `deepspeed --num_gpus 8 pretrain_gpt.py --tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 --num-layers 24 --hidden-size 2048 \\\n` +
  `  --num-attention-heads 16 --seq-length 2048 --max-position-embeddings 2048 --micro-batch-size 4 --global-batch-size 96 --bf16 \\\n` +
  `  --deepspeed --deepspeed_config ${config}\n`;
const ds = put("ds.json", JSON.stringify({ train_batch_size: 96, train_micro_batch_size_per_gpu: 4, zero_optimization: { stage: 1 }, bf16: { enabled: true } }));
const plan = async (...from: string[]) => runCli(["plan", "--model", "gpt3-1.3b", "--top", "1", ...from.flatMap((f) => ["--from", f]), "--json"]);

describe("a Megatron-DeepSpeed script alone", () => {
  it("is read with the config it names, as if given beside it", async () => {
    const alone = await plan(put("run.sh", script("ds.json")));
    const pair = await plan(ds, join(dir, "run.sh"));
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).not.toContain("not a Megatron-LM argument");
    const [a, b] = [JSON.parse(alone.stdout), JSON.parse(pair.stdout)];
    expect(a.engine).toBe("megatron-deepspeed");
    expect(a.from).toEqual(b.from);
    expect(a.from.sources).toEqual(["ds.json", "run.sh"]);
    // ds.json's ZeRO-1 beside the script's pipeline of 2 (DeepSpeed's pipeline engine takes 0 or 1).
    expect([a.from.plan.zero, a.from.plan.pp, a.from.plan.tp, a.from.plan.dp]).toEqual([1, 2, 2, 2]);
  });

  it("a config named by a shell variable, or not found, asks for it as a --from (exit 2)", async () => {
    const viaVar = await plan(put("var.sh", script("$DS_CONFIG")));
    expect(viaVar.code).toBe(2);
    expect(viaVar.stderr).toMatch(/var\.sh runs Megatron-DeepSpeed with --deepspeed_config \$DS_CONFIG, a shell variable paraplan does not resolve; give its DeepSpeed config as a --from before it/);
    const missing = await plan(put("missing.sh", script("nowhere.json")));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.sh runs Megatron-DeepSpeed with --deepspeed_config nowhere\.json, not found beside it nor here/);
  });
});
