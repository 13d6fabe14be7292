// torchtitan's expert-parallel communication backend (parallelism.expert_parallel_comm_backend,
// job_config.py:474 @ v0.2.1 and v0.2.2, Literal["standard", "deepep"]; main moved it into the
// model registry's moe_comm_backend, no override): read as the engine's dispatcher where the run
// does what paraplan's deepep dispatcher prices (cost/dispatch.ts), refused by key where torchtitan
// raises or runs something else. What v0.2.2 (73a0e697) runs under "deepep":
//  - deepseek_v3 alone builds the DeepEP MoE (model/args.py:116 moe_impl, model/model.py:362,
//    moe/moe.py:577-592 build_moe → DeepEPMoE), its experts' tokens moved by DeepEP's Buffer.dispatch
//    and combine (distributed/deepep/deepep.py: the high-throughput kernels, whose internode path
//    sends a token once per node and forwards it over NVLink; the hidden states as they come, bf16,
//    no fp8 dispatch); dispatch waits for its event, so it is on the critical path, as priced;
//  - deepseek_v3/infra/parallelize.py:100-111 (and llama4's :114-125) raise without expert
//    parallel ("DeepEP requires expert parallelism (ep_degree > 1)") and with expert tensor
//    parallel ("DeepEP with Expert Tensor Parallelism (ETP) is not supported yet");
//  - DeepEPMoE.forward (moe/moe_deepep.py:69-77) runs the shared experts while the combine is in
//    flight and waits for it after, the backward nothing beside it: read as the engine's
//    moe.sharedExpertOverlap (engine-dispatch.ts TITAN_DEEPEP_SHARED_OVERLAP; read-torchtitan.ts);
//  - DeepEPMoE sets its reorderer to None (moe_deepep.py:37), so with tensor parallel the
//    ReordererSequenceParallel that splits the tokens over the tp ranks (llama4/infra/
//    parallelize.py:531-536, apply_moe_ep_tp) has no module to act on: each tp rank dispatches the
//    whole replicated sequence, where paraplan prices T/tp tokens a rank;
//  - llama4 applies DeepEPExpertParallel (llama4/infra/parallelize.py:567-574) to the standard MoE
//    (llama4/model/model.py:404), whose experts get two inputs (moe/moe.py:524) where the DeepEP
//    hook unpacks five (distributed/expert_parallel.py:339): the first step raises;
//  - qwen3's and gpt_oss's parallelize never read the setting (apply_moe_ep_tp without use_deepep):
//    the standard all-to-all runs.
import type { ModelSpec, MoeDispatcher } from "../../planner/index.js";
import { UserError } from "../errors.js";
import type { TomlValue } from "./toml.js";

const AT = "@ v0.2.2";

/** Why torchtitan v0.2.2 does not run DeepEP as paraplan's deepep dispatcher prices it, each a
 *  phrase that follows "torchtitan" (the sources in the header); plan --from words them with the
 *  key (readTitanCommBackend), the export with the plan (titan-deepep-export.ts). */
export const DEEPEP_BLOCKS = {
  ignored: (family: string) => `never reads expert_parallel_comm_backend for ${family} (models/${family}/infra/parallelize.py calls apply_moe_ep_tp without use_deepep ${AT}), so the standard all-to-all runs`,
  llama4: `applies DeepEPExpertParallel to llama4's standard MoE (llama4/infra/parallelize.py:567-574 ${AT}), whose experts get two inputs (moe/moe.py:524) where the DeepEP hook unpacks five (distributed/expert_parallel.py:339), so the first step raises`,
  ep: `raises "DeepEP requires expert parallelism (ep_degree > 1)" without expert parallel (deepseek_v3/infra/parallelize.py:100-106 ${AT})`,
  etp: `raises NotImplementedError "DeepEP with Expert Tensor Parallelism (ETP) is not supported yet" (deepseek_v3/infra/parallelize.py:107-111 ${AT})`,
  tp: `builds its DeepEP MoE without a reorderer (moe/moe_deepep.py:37 ${AT}), so nothing splits the tp ranks' replicated tokens (ReordererSequenceParallel, llama4/infra/parallelize.py:531-536) and each rank dispatches the whole sequence, where paraplan prices 1/tp of it a rank`,
} as const;

/** The first of DEEPEP_BLOCKS that holds for this family and layout, or null. `family`: the
 *  file's [model] name (undefined: the user's own registry entry). */
export function deepepBlock(family: string | undefined, p: { tp: number; ep: number; etp: number }): "ignored" | "llama4" | "ep" | "etp" | "tp" | null {
  if (family === "qwen3" || family === "gpt_oss") return "ignored";
  if (family === "llama4") return "llama4";
  return p.ep <= 1 ? "ep" : p.etp > 1 ? "etp" : p.tp > 1 ? "tp" : null;
}

/** The dispatcher a torchtitan TOML's backend runs: "deepep", or undefined for the engine's
 *  all-to-all; exit 2 naming the key where torchtitan raises or paraplan does not price the run.
 *  `family`: the file's [model] name (undefined: no [model], read as --model). */
export function readTitanCommBackend(
  s: { get: (section: string, key: string) => TomlValue | undefined; setting: (section: string, key: string) => string },
  p: { family: string | undefined; model: ModelSpec; tp: number; ep: number; etp: number },
  notes: string[],
): MoeDispatcher | undefined {
  const backend = s.get("parallelism", "expert_parallel_comm_backend");
  if (backend === undefined || backend === "standard") return undefined;
  const at = s.setting("parallelism", "expert_parallel_comm_backend");
  if (backend !== "deepep") throw new UserError(`${at} is not "standard" or "deepep" (Literal in job_config.py:474 ${AT})`);
  const e = p.model.moe;
  if (e === undefined) {
    notes.push(`${at}: no effect on ${p.model.name}, which has no experts (job_config.py:476 ${AT})`);
    return undefined;
  }
  const block = deepepBlock(p.family, p);
  if (block === "ignored") {
    notes.push(`${at}: torchtitan ${DEEPEP_BLOCKS.ignored(p.family!)}, as priced`);
    return undefined;
  }
  const context = { llama4: "with llama4", ep: `without expert parallel (expert_parallel_degree ${p.ep})`, etp: `with expert_tensor_parallel_degree ${p.etp}`, tp: `with tensor_parallel_degree ${p.tp}` };
  if (block !== null)
    throw new UserError(`${at} ${context[block]}: torchtitan ${DEEPEP_BLOCKS[block]}${block === "ep" || block === "etp" ? ", so the run stops at start" : ""}; use "standard"`);
  const family = p.family ?? "your registry entry";
  const shared = e.sharedExperts > 0 ? `, ${p.model.name}'s shared experts beside its combine in the forward (moe/moe_deepep.py:69-77 ${AT})` : "";
  notes.push(`${at}: DeepEP's dispatch (distributed/deepep/deepep.py ${AT}: a token crosses the network once per other node holding one of its experts, 16-bit), priced as the deepep dispatcher${shared}${p.family !== "deepseek_v3" ? `; ${family} must build its MoE with build_moe(moe_impl="deepep") and apply DeepEPExpertParallel, as deepseek_v3 does` : ""}`);
  return "deepep";
}
