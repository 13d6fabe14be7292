// `plan --from llm-foundry.yaml` without --model: an MPT model section (model.name mpt_causal_lm)
// states the whole model, as MPT's config.json does, in the same MPTConfig keys. It is read by the
// config.json reader's MPT translation (planner/schema/hf-alibi.ts) with llm-foundry's own
// defaults: the file runs llm-foundry's code (its auto_map, in config.json terms), whose
// attn_config.alibi defaults to false (learned positions).
import { basename } from "node:path";
import { parse } from "yaml";
import type { ModelSpec } from "../../planner/index.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import { UserError } from "../errors.js";
import type { ConfigFile } from "./read-config.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** A YAML parser's error as one line (the parser's own guard against deep nesting reports the
 *  stack it ran out of: said as nesting). */
export const notValidYaml = (name: string, message: string) =>
  new UserError(`${name}: not valid YAML (${message.split("\n")[0]!.replace(/^Maximum call stack size exceeded/, "nested too deeply to read")})`);

/** The model an llm-foundry YAML's mpt_causal_lm section builds, or null when the file names
 *  another model (hf_causal_lm: its config is not in the file). */
export function foundryModel(file: ConfigFile): ModelSpec | null {
  let doc: unknown;
  try {
    doc = parse(file.text);
  } catch (e) {
    // (without --model the reader is not reached: the YAML's error is named here, as it names it)
    throw notValidYaml(file.name, (e as Error).message);
  }
  const model = isObj(doc) ? doc.model : undefined;
  if (!isObj(model) || model.name !== "mpt_causal_lm") return null;
  const attn = isObj(model.attn_config) ? model.attn_config : {};
  const name = `mpt_causal_lm of ${basename(file.name)}`;
  // OmegaConf's ${max_seq_len} or ${variables.max_seq_len}: the top level's (the reader resolves the
  // same references for the run's sequence length, and names any it cannot).
  const top = isObj(doc) ? doc : {};
  const vars = isObj(top.variables) ? top.variables : {};
  let len: unknown = model.max_seq_len;
  for (let hop = 0; hop < 4 && typeof len === "string"; hop++) {
    const ref = /^\$\{(variables\.)?(\w+)\}$/.exec(len.trim());
    if (!ref) break;
    len = ref[1] ? vars[ref[2]!] : (top[ref[2]!] ?? vars[ref[2]!]);
  }
  const config: Obj = {
    ...model,
    model_type: "mpt",
    _name_or_path: name,
    auto_map: { AutoConfig: "llm-foundry" },
    attn_config: { alibi: false, ...attn },
    ...(typeof len === "number" ? { max_seq_len: len } : {}),
  };
  // (messages name the section's own keys, MPTConfig's, under this origin)
  const r = parseHfConfig(config, `${file.name} model`, name);
  if (!r.ok) throw new UserError(r.message);
  return r.value;
}
