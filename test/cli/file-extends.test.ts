// A profile file may extend (or take one figure `sameAs`) another file, named relative to itself
// (src/file-extends.ts): a team's base profile of its cluster or stack version, refined per job.
// Before, `extends` could name only a built-in.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-extends-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const put = (name: string, body: object) => {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(body));
  return path;
};
// The network per GPU: 4 × 400 Gb/s NICs shared by 8 GPUs is 4 × 50 GB/s / 8 = 25 GB/s, half of
// dgx-h100's 50 GB/s (one NIC per GPU), which the header prints.
const slowNet = { bandwidth: { value: "25 GB/s", source: "test: 4 × 400 Gb/s per node of 8" } };
const plan = (...a: string[]) => runCli(["plan", "--model", "gpt3-like", "--top", "1", ...a]);
const stepOf = async (...a: string[]) => JSON.parse((await plan("--json", ...a)).stdout).plans[0].time.step as number;

describe("hardware profiles extend files", () => {
  const base = put("team/base/cluster.json", { extends: "dgx-h100", name: "team-h100", network: slowNet });
  const job = put("jobs/job.json", { extends: "../team/base/cluster.json", name: "team-h100-job" });

  it("a chain file → file → built-in carries the base file's figures, relative to each file", async () => {
    const r = await plan("--profile", job);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NVLink 450 GB\/s and 25\.0 GB\/s network per GPU/);
    // The job adds nothing to its base: the same step; the base's slower network: not dgx-h100's.
    const [viaJob, viaBase, builtin] = [await stepOf("--profile", job), await stepOf("--profile", base), await stepOf("--profile", "dgx-h100")];
    expect(viaJob).toBe(viaBase);
    expect(viaJob).toBeGreaterThan(builtin);
  });

  it("one figure taken sameAs a file", async () => {
    const ref = put("figs/net.json", { extends: "dgx-h100", network: slowNet });
    const one = put("one.json", { extends: "dgx-h100", network: { bandwidth: { sameAs: "./figs/net.json", source: "our fabric" } } });
    const r = await plan("--profile", one);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/25\.0 GB\/s network per GPU/);
    expect(await stepOf("--profile", one)).toBe(await stepOf("--profile", ref));
  });

  it("a file that is not there is one line naming the field, the path looked for, exit 2", async () => {
    const r = await plan("--profile", put("gone.json", { extends: "./nowhere/base.json" }));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`gone.json: field "extends": no file "./nowhere/base.json" (looked for ${join(dir, "nowhere/base.json")})`);
  });

  it('"dgx-h100.json" meant as the built-in is told to write "dgx-h100"', async () => {
    const r = await plan("--profile", put("builtin-as-file.json", { extends: "dgx-h100.json" }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no file "dgx-h100\.json" .*; for the built-in profile write "dgx-h100"/);
  });

  it("a loop through files is refused naming the file that closes it", async () => {
    put("loop/a.json", { extends: "./b.json" });
    put("loop/b.json", { extends: "./a.json" });
    const r = await plan("--profile", join(dir, "loop/a.json"));
    expect(r.code).toBe(2);
    // (a.json's chain is b.json → a.json → b.json: b.json closes it)
    expect(r.stderr).toMatch(/a\.json: "extends" loops through "b\.json"/);
  });
});

describe("engine profiles extend files", () => {
  // A team's profile of its stack version, and a job's refinement of it in a subdirectory.
  const stackOf = (stack: string) => {
    put(`eng-${stack}/version.json`, { extends: stack, name: `our-${stack}` });
    return put(`eng-${stack}/jobs/job.json`, { extends: "../version.json", name: "job" });
  };

  it("the chain reaches the built-in engine: its search space, and export's format agreement", async () => {
    const fsdpJob = stackOf("fsdp");
    // (no tensor parallel under fsdp: 512 GPUs, so that dp divides the global batch of 1,536)
    const r = await plan("--engine", fsdpJob, "--gpus", "512");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/engine job \(--engine\)\n  searched as it runs: no tensor parallel · no pipeline/);
    // An export runs the format's stack: a file refining megatron-core (through another file) is
    // that stack; one refining fsdp contradicts it.
    const ok = await runCli(["export", "--format", "megatron", "--model", "gpt3-like", "--engine", stackOf("megatron-core")]);
    expect(ok.code).toBe(0);
    const refused = await runCli(["export", "--format", "megatron", "--model", "gpt3-like", "--engine", fsdpJob]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/contradicts --format megatron, which runs on megatron-core/);
  });

  it("a built-in named in another case, as --engine takes it (QA: \"Megatron-Core\" was no built-in)", async () => {
    const cased = put("eng-cased.json", { extends: "FSDP", name: "cased" });
    const r = await plan("--engine", cased, "--gpus", "512");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/engine cased \(--engine\)\n  searched as it runs: no tensor parallel · no pipeline/);
  });
});

describe("a file extending the other kind of profile", () => {
  it("an engine file extending dgx-h100, or a hardware file: says it is a hardware profile, exit 2", async () => {
    const byName = await plan("--engine", put("e-hw.json", { name: "m", extends: "dgx-h100" }));
    expect([byName.code, byName.stderr.trim()]).toEqual([2, 'paraplan: e-hw.json: field "extends": "dgx-h100" is a built-in hardware profile, not an engine']);
    const hwFile = put("hw-500.json", { name: "hw500", extends: "dgx-h100", gpu: { powerLimit: "500 W", ratedPower: "700 W" } });
    const byFile = await plan("--engine", put("e-hwfile.json", { name: "m", extends: "./hw-500.json" }));
    expect([byFile.code, byFile.stderr.trim()]).toEqual([2, 'paraplan: e-hwfile.json: field "extends": hw-500.json is a hardware profile (it has "gpu"), not an engine']);
    expect((await plan("--profile", hwFile)).code).toBe(0);
  });

  it("a hardware profile extending an engine, and each flag given the other kind's name", async () => {
    const r = await plan("--profile", put("hw-fsdp.json", { name: "h", extends: "fsdp" }));
    expect([r.code, r.stderr.trim()]).toEqual([2, 'paraplan: hw-fsdp.json: field "extends": "fsdp" is a built-in engine, not a hardware profile']);
    expect((await plan("--engine", "dgx-h100")).stderr).toMatch(/^paraplan: --engine: unknown engine "dgx-h100" \(a hardware profile: --profile\); built-ins: /);
    expect((await plan("--profile", "fsdp")).stderr).toMatch(/^paraplan: --profile: unknown profile "fsdp" \(an engine: --engine\); built-ins: /);
  });

  it("a profile or engine file extending a model file: says it is a model file (QA: `field \"attention\": missing`)", async () => {
    put("model.json", { name: "m", layers: 4, hidden: 256, heads: 4, vocab: 1000, seqLen: 128 });
    put("config.json", { model_type: "llama", num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, vocab_size: 1000 });
    const e = await plan("--engine", put("e-model.json", { name: "e", extends: "./model.json" }));
    expect([e.code, e.stderr.trim()]).toEqual([2, 'paraplan: e-model.json: field "extends": model.json is a model file (it has "layers"), not an engine']);
    const h = await plan("--profile", put("hw-config.json", { name: "h", extends: "./config.json" }));
    expect([h.code, h.stderr.trim()]).toEqual([2, 'paraplan: hw-config.json: field "extends": config.json is a model file (it has "num_hidden_layers"), not a hardware profile']);
  });
});
