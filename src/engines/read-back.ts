// `--from FILE…`: which reader a set of configuration files goes to. One configuration: a
// Megatron-LM arguments file; a ds_config.json, optionally with its Megatron-DeepSpeed arguments;
// or a torchtitan TOML job file or override file.
import { UserError } from "../errors.js";
import { type ConfigReading, type ReadContext, loadConfigFile } from "./read-config.js";
import { readDeepSpeed } from "./read-deepspeed.js";
import { readMegatron } from "./read-megatron.js";
import { readTorchtitan } from "./read-torchtitan.js";

export function readConfigs(paths: string[], ctx: ReadContext): ConfigReading {
  const files = paths.map(loadConfigFile);
  const ds = files.filter((f) => f.kind === "deepspeed");
  const titan = files.filter((f) => f.kind === "torchtitan-toml" || f.kind === "torchtitan-overrides");
  const args = files.filter((f) => f.kind === "args");
  if (files.length > 2 || ds.length > 1 || args.length > 1 || titan.length > 1 || (titan.length > 0 && files.length > 1) || (files.length === 2 && ds.length === 0))
    throw new UserError(
      `--from ${files.map((f) => f.name).join(", ")}: give one configuration, a Megatron-LM arguments file, a ds_config.json (with its Megatron-DeepSpeed arguments as a second --from) or a torchtitan file`,
    );
  if (ds[0]) return readDeepSpeed(ds[0], args[0], ctx);
  if (titan[0]) return readTorchtitan(titan[0], ctx);
  return readMegatron(args[0]!, ctx);
}
