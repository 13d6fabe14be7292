// The header's words for what an engine's stack does not run (engine-limits.ts).
import { describe, expect, it } from "vitest";
import { engineLimits } from "./engine-limits.js";
import { loadEngine } from "../load-engine.js";

const limits = (name: string) => engineLimits(loadEngine(name, undefined));

describe("engineLimits", () => {
  it("says nothing for Megatron-Core's own set, the default engine's", () => {
    expect(limits("megatron-core")).toBeNull();
  });
  it("names each parallelism a stack lacks, and its ZeRO stages where they differ", () => {
    expect(limits("fsdp")).toBe("no tensor parallel · no pipeline · no context parallel · no expert parallel · ZeRO 0, 2, 3 · recompute whole layers or none");
    expect(limits("megatron-2021")).toBe("no sequence parallel · no context parallel · no expert parallel · ZeRO 0 · fp16, bf16 only · recompute whole layers or none");
    expect(limits("megatron-deepspeed")).toBe("no sequence parallel · no context parallel · no expert parallel · fp16, bf16 only · recompute whole layers or none");
    expect(limits("torchtitan")).toBe("sequence parallel always with tp · context parallel ring, allgather only · no expert parallel · ZeRO 0, 2, 3 (0, 1 beside a pipeline) · bf16, fp8 only · tp or pp with FSDP only (16-bit)");
    // ZeRO 0–3, 0–1 beside a pipeline: the default set, so not named
    expect(limits("paraplan")).toBe("context parallel allgather, ring only · bf16, fp8 only");
  });
});
