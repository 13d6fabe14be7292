// How a profile file reuses another's data (hardware and engine profiles alike):
//   "extends": "<built-in>"  the whole file, merged key by key, the file's own keys winning;
//   { "sameAs": "<built-in>", "source": "why" }  one figure, taken from that profile at the same
//                            path. For parts that share a die with a calibrated one (an H200 or
//                            H800 is an H100's GH100): the calibrated figure is written once and
//                            every part that reuses it follows a refit, where a copy went stale.
//                            With "scale": x (0 < x ≤ 1), a fraction of it: a number's value, or
//                            each point of a table (another vendor's part measured at that share
//                            of the calibrated one's efficiency, the refit still followed).
//   Either may name a user's .json file instead of a built-in: the CLI hands `lookup` its absolute
//   path (src/file-extends.ts), and messages show its file name.
// No I/O: `lookup` returns a built-in's (or a named file's) raw contents, or undefined.
import type { Parsed } from "./result.js";

type Json = Record<string, unknown>;
type Lookup = (name: string) => unknown;

/** A name `lookup` resolves as a file (a path ending in .json) rather than a built-in. */
const isFileName = (name: string) => /\.json$/i.test(name);
/** How messages and citations name a profile: a built-in by name, a file by its last segment. */
const shown = (name: string) => (isFileName(name) ? name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1) : name);
const fileOf = (name: string) => (isFileName(name) ? shown(name) : `${name}.json`);

const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
/** A figure replaced as a whole by a file that extends its profile: a sourced value, a table of
 *  points or a reference (a table merged key by key kept the base's source beside the file's
 *  points, citing a calibration the file's figures never had: QA). */
const isWhole = (x: Json) => "value" in x || "sameAs" in x || "points" in x;

/** The two kinds of profile file, and the keys each requires (./hardware.ts, ./engine.ts). */
export type ProfileKind = "hardware profile" | "engine";
const KEYS: Record<ProfileKind, readonly string[]> = { "hardware profile": ["gpu", "node", "network"], engine: ["attention", "launch", "fused", "dataParallel"] };
const other = (k: ProfileKind): ProfileKind => (k === "engine" ? "hardware profile" : "engine");
const an = (k: ProfileKind) => (k === "engine" ? "an engine" : "a hardware profile");

/** What is being resolved, to name a profile of the other kind that `extends` or `sameAs` names (an
 *  engine file extending dgx-h100) as such rather than as missing. `otherBuiltin`: whether a name
 *  is one of the other kind's built-ins. */
export interface KindCheck {
  kind: ProfileKind;
  otherBuiltin: (name: string) => boolean;
}

/** Keys of a model file, paraplan's or a HuggingFace config.json's, that no profile has. */
const MODEL_KEYS = ["layers", "num_hidden_layers", "model_type", "n_layer", "n_layers"];

/** Why `name` cannot be a base of a `cx.kind` file, or null: the other kind's built-in (when
 *  `found` is undefined), or a file with the other kind's keys, or a model's (QA: an engine file
 *  extending mixtral.json was told `field "attention": missing`). */
function wrongKind(name: string, found: unknown, cx: KindCheck | undefined): string | null {
  if (!cx) return null;
  const o = other(cx.kind);
  if (found === undefined) return cx.otherBuiltin(name) ? `"${name}" is a built-in ${o}, not ${an(cx.kind)}` : null;
  const model = isObj(found) && !KEYS[cx.kind].some((k) => k in found) ? MODEL_KEYS.find((k) => k in found) : undefined;
  if (model !== undefined) return `${shown(name)} is a model file (it has "${model}"), not ${an(cx.kind)}`;
  const key = isObj(found) ? KEYS[o].find((k) => k in found && !KEYS[cx.kind].includes(k)) : undefined;
  return key === undefined ? null : `${shown(name)} is ${an(o)} (it has "${key}"), not ${an(cx.kind)}`;
}

/** Deep merge for `extends`: objects merge key by key, anything else (arrays, figures given as
 *  strings) replaces. A figure object { value, source } or { sameAs } replaces as a whole, and a
 *  { sameAs } in the base is replaced by whatever the file gives there (a table of its own); so is
 *  a base's { value, source } by the file's bare value, an object too (dataParallel.
 *  gradBytesByPrecision: a bare { "fp16": … } merged into the base's figure read as stray keys). */
export function mergeProfiles(base: unknown, over: unknown): unknown {
  // (an object with a source but no value re-cites the base's figure: merged, as before)
  if (!isObj(base) || !isObj(over) || isWhole(over) || "sameAs" in base || ("value" in base && !("source" in over))) return over;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeProfiles(base[k], v) : v;
  return out;
}

/** Follow `extends` through `lookup` (built-in profiles by name) and merge, base first; then
 *  resolve every `sameAs` figure. The base is resolved before the file is merged into it, so a
 *  file may override part of a figure its base takes by reference (its table's points alone). */
export function resolveExtends(raw: unknown, lookup: Lookup, origin: string, kind?: KindCheck): Parsed<unknown> {
  // The file itself of the other kind (a hardware file given to --engine): said so, not that the
  // kind's first field is missing.
  const mine = kind && isObj(raw) && !KEYS[kind.kind].some((k) => k in raw) ? KEYS[other(kind.kind)].find((k) => k in raw) : undefined;
  if (kind && mine !== undefined)
    return { ok: false, message: `${origin}: the file is ${an(other(kind.kind))} (it has "${mine}"), not ${an(kind.kind)}; give it to ${kind.kind === "engine" ? "--profile" : "--engine"}` };
  return resolveProfile(raw, lookup, origin, [], kind);
}

/** `chain`: the built-ins being resolved, outermost first (a loop through `extends` or `sameAs`
 *  names the profile that closes it). The file itself is not in it: a user's file may share a
 *  built-in's name and extend it. */
function resolveProfile(raw: unknown, lookup: Lookup, origin: string, chain: readonly string[], kind: KindCheck | undefined): Parsed<unknown> {
  if (!isObj(raw)) return { ok: true, value: raw };
  let merged: unknown = raw;
  const ext = raw.extends;
  if (ext !== undefined) {
    if (typeof ext !== "string") return { ok: false, message: `${origin}: field "extends" must be a built-in profile name or a .json file` };
    if (chain.includes(ext)) return { ok: false, message: `${origin}: "extends" loops through "${shown(ext)}"` };
    const base = lookup(ext);
    const wrong = wrongKind(ext, base, kind);
    if (wrong) return { ok: false, message: `${origin}: field "extends": ${wrong}` };
    if (base === undefined) return { ok: false, message: `${origin}: field "extends": no built-in ${kind?.kind ?? "profile"} "${ext}"` };
    const resolved = resolveProfile(base, lookup, fileOf(ext), [...chain, ext], kind);
    if (!resolved.ok) return resolved;
    const { extends: _drop, ...rest } = raw;
    merged = mergeProfiles(resolved.value, rest);
  }
  return resolveRefs(merged, [], { lookup, origin, chain, kind });
}

interface RefContext {
  lookup: Lookup;
  origin: string;
  /** Profiles whose figures are being resolved, outermost first (a reference loop names them). */
  chain: readonly string[];
  kind: KindCheck | undefined;
}

/** The tree with each { sameAs, source? } replaced by the named profile's figure at its path. */
function resolveRefs(node: unknown, path: readonly string[], cx: RefContext): Parsed<unknown> {
  if (!isObj(node)) return { ok: true, value: node };
  if ("sameAs" in node) return resolveRef(node, path, cx);
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    const r = resolveRefs(v, [...path, k], cx);
    if (!r.ok) return r;
    out[k] = r.value;
  }
  return { ok: true, value: out };
}

function resolveRef(node: Json, path: readonly string[], cx: RefContext): Parsed<unknown> {
  // (at the top, it said: field "": a "sameAs" figure takes only "source" beside it, not "name")
  if (path.length === 0) return { ok: false, message: `${cx.origin}: "sameAs" takes one figure from a profile; a whole file takes "extends"` };
  const field = `${cx.origin}: field "${path.join(".")}"`;
  const { sameAs: name, source: why, scale, ...extra } = node;
  if (typeof name !== "string" || name === "") return { ok: false, message: `${field}: "sameAs" must be a built-in profile name or a .json file` };
  if (Object.keys(extra).length > 0) return { ok: false, message: `${field}: a "sameAs" figure takes only "source" and "scale" beside it, not "${Object.keys(extra)[0]}"` };
  if (scale !== undefined && (typeof scale !== "number" || !(scale > 0 && scale <= 1))) return { ok: false, message: `${field}: "scale" must be a number above 0 and at most 1 (a share of the named figure)` };
  // (a share of an efficiency, what another part reaches of a calibrated one's; not of a count or
  // a byte width, which a part has or has not: QA scaled gpusPerNode to 4)
  if (scale !== undefined && !path.some((k) => /efficiency/i.test(k))) return { ok: false, message: `${field}: "scale" takes a share of an efficiency figure (matmulEfficiency, attentionEfficiency, …), not of this one` };
  if (why !== undefined && (typeof why !== "string" || why === "")) return { ok: false, message: `${field}: "source" must be a non-empty string` };
  if (cx.chain.includes(name)) return { ok: false, message: `${field}: "sameAs" loops through "${shown(name)}"` };
  const raw = cx.lookup(name);
  const wrong = wrongKind(name, raw, cx.kind);
  if (wrong) return { ok: false, message: `${field}: "sameAs": ${wrong}` };
  if (raw === undefined) return { ok: false, message: `${field}: "sameAs": no built-in profile "${name}"` };
  const from = resolveProfile(raw, cx.lookup, fileOf(name), [...cx.chain, name], cx.kind);
  if (!from.ok) return from;
  let figure: unknown = from.value;
  for (const k of path) figure = isObj(figure) ? figure[k] : undefined;
  if (figure === undefined) return { ok: false, message: `${field}: "sameAs": profile "${shown(name)}" has no "${path.join(".")}"` };
  if (scale === undefined) return { ok: true, value: cited(figure, shown(name), why) };
  const scaled = scaledFigure(figure, scale);
  if (scaled === null) return { ok: false, message: `${field}: "scale" applies to a number or a table of points, and profile "${shown(name)}"'s "${path.join(".")}" is neither` };
  return { ok: true, value: cited(scaled, `${shown(name)} × ${scale}`, why) };
}

/** A figure times `x`: a bare number or a { value } number, or each point's value of a { points }
 *  table; null for anything else (a quantity with units, a flag). */
function scaledFigure(figure: unknown, x: number): unknown {
  if (typeof figure === "number") return figure * x;
  if (!isObj(figure)) return null;
  if (typeof figure.value === "number") return { ...figure, value: figure.value * x };
  const pts = figure.points;
  if (Array.isArray(pts) && pts.every((p) => Array.isArray(p) && p.length === 2 && typeof p[1] === "number")) return { ...figure, points: pts.map((p) => [p[0], (p[1] as number) * x]) };
  return null;
}

/** The referenced figure, its source followed by where it was taken from and why it applies
 *  ("<its source>; as <profile>'s figure: <why>", so a status tag ending the reason ends it). */
function cited(figure: unknown, name: string, why: string | undefined): unknown {
  const from = `as ${name}'s figure${why ? `: ${why}` : ""}`;
  if (isObj(figure) && typeof figure.source === "string") return { ...figure, source: `${figure.source}; ${from}` };
  if (isObj(figure)) return figure;
  return { value: figure, source: from };
}
