// `--from FILE…`: which reader a set of configuration files goes to. One configuration: a
// Megatron-LM arguments file; a ds_config.json, optionally with its Megatron-DeepSpeed arguments;
// a torchtitan TOML job file or override file; or an llm-foundry training YAML.
import { UserError } from "../errors.js";
import { MAX } from "../flags.js";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type ConfigFile, type ConfigReading, type ReadContext, loadConfigFile } from "./read-config.js";
import { readDeepSpeed } from "./read-deepspeed.js";
import { byFlag, readArgs, strArg } from "./args-file.js";
import { readMegatron } from "./read-megatron.js";
import { readTorchtitan } from "./read-torchtitan.js";
import { readLlmFoundry } from "./read-llm-foundry.js";
import { type AtKey, named } from "./setting-at.js";

export function readConfigs(paths: string[], ctx: ReadContext): ConfigReading {
  const files = withDeepSpeedConfig(paths.map(loadConfigFile));
  const ds = files.filter((f) => f.kind === "deepspeed");
  const titan = files.filter((f) => f.kind === "torchtitan-toml" || f.kind === "torchtitan-overrides");
  const args = files.filter((f) => f.kind === "args");
  const foundry = files.filter((f) => f.kind === "llm-foundry");
  if (foundry.length > 0 && files.length > 1)
    throw new UserError(`--from ${files.map((f) => f.name).join(", ")}: an llm-foundry YAML is a whole configuration; give it alone`);
  if (foundry[0]) return withinBounds(readLlmFoundry(foundry[0], ctx));
  if (files.length > 2 || ds.length > 1 || args.length > 1 || titan.length > 1 || (titan.length > 0 && files.length > 1) || (files.length === 2 && ds.length === 0))
    throw new UserError(
      `--from ${files.map((f) => f.name).join(", ")}: give one configuration, a Megatron-LM arguments file, a ds_config.json (with its Megatron-DeepSpeed arguments as a second --from) or a torchtitan file`,
    );
  const reading = ds[0] ? readDeepSpeed(ds[0], args[0], ctx) : titan[0] ? readTorchtitan(titan[0], ctx) : readMegatron(args[0]!, ctx);
  return withinBounds(reading);
}

/** A Megatron-DeepSpeed launch script given alone (`--deepspeed --deepspeed_config ds.json` among
 *  its arguments) brings the DeepSpeed config it names: read beside it, relative to the script's
 *  directory and then the current one, as a second --from would be. Read as Megatron-LM it had
 *  both flags ignored with a warning and its ZeRO stage, micro-batch and precision lost. A config
 *  named through a shell variable, or not found, is exit 2 asking for it. */
function withDeepSpeedConfig(files: ConfigFile[]): ConfigFile[] {
  const args = files.filter((f) => f.kind === "args");
  if (files.length !== 1 || args.length !== 1) return files;
  const script = args[0]!;
  // (the arguments as the Megatron reader takes them: arrays, continuations, comments, variables)
  const flags = byFlag(readArgs(script.text), script.name);
  if (!flags.has("deepspeed")) return files;
  const named = strArg(flags, "deepspeed_config") ?? strArg(flags, "deepspeed-config");
  const ask = `give its DeepSpeed config as a --from before it (paraplan plan --from ds_config.json --from ${script.name})`;
  if (named === undefined) throw new UserError(`${script.name} runs Megatron-DeepSpeed (--deepspeed) without --deepspeed_config; ${ask}`);
  if (named.includes("$")) throw new UserError(`${script.name} runs Megatron-DeepSpeed with --deepspeed_config ${named}, a shell variable paraplan does not resolve; ${ask}`);
  const found = [resolve(dirname(script.path), named), resolve(named)].find((p) => existsSync(p));
  if (found === undefined) throw new UserError(`${script.name} runs Megatron-DeepSpeed with --deepspeed_config ${named}, not found beside it nor here; ${ask}`);
  return [loadConfigFile(found), script];
}

/** A file's sizes obey the bounds their flags have (src/flags.ts MAX, plan --help "bounds"): a
 *  batch of 10^300 from a ds_config was priced at a 300-digit step time. */
function withinBounds(r: ConfigReading): ConfigReading {
  const o = r.sources.join(" + ");
  // (named by the file's setting where it states the value, not by the paraplan flag of that bound)
  const check = (key: AtKey, what: string, v: number | undefined, max: number) => {
    if (v === undefined || (Number.isSafeInteger(v) && v >= 1 && v <= max)) return;
    const s = r.at?.[key];
    const value = `${what} ${Number.isFinite(v) && Math.abs(v) < 1e15 ? v.toLocaleString("en-US") : String(v)}`;
    throw new UserError(`${s ? `${named(s)}: ${value}` : `${o}: ${value}`} is not a whole number from 1 to ${max.toLocaleString("en-US")}, the bound paraplan plans within`);
  };
  check("globalBatch", "global batch", r.globalBatch, MAX.batch);
  check("microBatch", "micro-batch", r.plan.microBatch, MAX.batch);
  check("seqLen", "sequence length", r.seqLen, MAX.seq);
  for (const k of ["tp", "pp", "dp", "cp", "ep", "vpp"] as const) check(k, k, r.plan[k], MAX.gpus);
  return r;
}
