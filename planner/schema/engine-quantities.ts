// The quantities of an engine profile file (profiles/engines/*.json), each with what it is, the
// bounds parseEngineFile (./engine.ts) holds it to and an example from the built-in engines, read
// as a hardware profile's are (./magnitude.ts): a value that does not read, or reads outside its
// bounds, is told the field's range and an example ("5" for launch.perKernel was told only
// 'write it like "5 us"'; "80" for dataParallel.bucketSize "like 80 GiB", above any bucket).
// No I/O.
import type { z } from "zod";
import type { ParsedValue } from "../run/parse.js";
import { type RunLimit, giveWithin, withinLimit } from "../run/limits.js";
import type { Quantity } from "../units.js";
import { parseMagnitude } from "./magnitude.js";

interface EngineQuantity {
  kind: Quantity;
  limit: RunLimit & { what: string };
}

export const ENGINE_QUANTITIES = {
  // Launch costs are microseconds (0 to 32 us in the built-in engines: 0 where Megatron-Core's
  // host overhead is inside the efficiencies, 8 us eager PyTorch); a millisecond per kernel is a
  // unit mistake ("8 s" for 8 us).
  "launch.perKernel": {
    kind: "seconds",
    limit: { min: 0, minIncluded: true, max: 1e-3, what: "the host time a kernel launch costs", words: "from 0 to 1 ms, like 8 us" },
  },
  // At least 1 MiB: the reduction's collectives (and the simulator's operations) number the
  // gradient bytes over the bucket; a byte-sized bucket made millions of them (PyTorch DDP's
  // bucket_cap_mb and DeepSpeed's buckets are megabytes: 25 MB to 1 GB in the built-ins).
  "dataParallel.bucketSize": {
    kind: "bytes",
    limit: { min: 2 ** 20, minIncluded: true, max: 1e12, what: "a gradient bucket's size", words: "from 1 MiB to 1 TB, like 80 MB" },
  },
  // The bucket's growth with the data-parallel size (max(bucketSize, bucketSizePerDp · dp)):
  // 0 for a fixed bucket, 2 MB for Megatron-Core's 1M elements a rank.
  "dataParallel.bucketSizePerDp": {
    kind: "bytes",
    limit: { min: 0, minIncluded: true, max: 1e12, what: "the gradient bucket's size per data-parallel rank", words: "from 0 to 1 TB, like 2 MB" },
  },
  // fp8 recipes' scaling state: 0 (tensorwise dynamic scaling) to 20 KiB (Transformer Engine's
  // amax history of 1024) in the built-ins; 1 GB per GEMM is a unit slip.
  "fp8.scalingStatePerGemm": {
    kind: "bytes",
    limit: { min: 0, minIncluded: true, max: 1e9, what: "the fp8 scaling state per GEMM", words: "from 0 to 1 GB, like 64 B" },
  },
} as const satisfies Record<string, EngineQuantity>;

export type EngineQuantityPath = keyof typeof ENGINE_QUANTITIES;

/** `text`, the value written at `path`, as SI, or `"<text>" <what is wrong>; give <what> <range>,
 *  like <example>` for parseEngineFile to put after the field: a value without a unit, in another
 *  quantity's unit, negative, zero where zero is not a value, or outside the bounds. */
export function engineQuantity(path: EngineQuantityPath, text: string): ParsedValue<number> {
  const { kind, limit } = ENGINE_QUANTITIES[path];
  const p = parseMagnitude(text, kind, { limit, zero: limit.min === 0 });
  if (p.ok) return p;
  // parseQuantity's own words that parseMagnitude keeps, given the range too: a size in bits was
  // offered "80 GiB" (1 GB is the most a GEMM's scaling state may be), and "1 KB" for a launch
  // cost was told to write kB, not a time.
  const give = giveWithin(limit);
  if (/" is in bits; /.test(p.message)) return { ok: false, message: `"${text}" is in bits; a size is in bytes (B, not b); ${give}` };
  if (/K is not an SI prefix/.test(p.message)) return { ok: false, message: kind === "bytes" ? `${p.message}; ${give}` : `"${text}" is not a ${kind} value; ${give}` };
  return p;
}

const SI_UNIT: Partial<Record<Quantity, string>> = { seconds: "s", bytes: "B" };

/** The schema's refusal of a quantity that is no text, `"launch.perKernel": 5` (a JSON number),
 *  "", null or a switch, in engineQuantity's words with the example quoted, or null for any other
 *  issue. A bare 80 for dataParallel.bucketSize was offered "80 B", which the field refuses, and
 *  none was told the field's range. */
export function quantityIssue(error: z.ZodError, raw: unknown): string | null {
  const at = error.issues[0]?.path.map(String) ?? [];
  const path = (at.at(-1) === "value" ? at.slice(0, -1) : at).join(".");
  if (!Object.hasOwn(ENGINE_QUANTITIES, path)) return null;
  const { kind, limit } = ENGINE_QUANTITIES[path as EngineQuantityPath];
  const given = path.split(".").reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), raw);
  // ({ "value": 5, "source": "…" }: the value is said at "….value", as the schema's own words)
  const sourced = isObject(given) && "value" in given;
  if (isObject(given) && !sourced) return null;
  const x: unknown = sourced ? given.value : given;
  const [range, example] = limit.words.split(", like ") as [string, string];
  const field = `field "${path}${sourced ? ".value" : ""}"`;
  const give = (offered: string) => `give ${limit.what} ${range} as text with its unit, like ${offered}`;
  if (x === "") return `${field}: "" is empty; ${give(`"${example}"`)}`;
  if (x === Infinity || x === -Infinity) return `${field}: a number past a double's range (1e400 reads as Infinity) is out of range; ${give(`"${example}"`)}`;
  if (typeof x === "string" || x === undefined) return null;
  if (typeof x !== "number") return `${field}: ${String(JSON.stringify(x)).length > 40 ? "the list" : JSON.stringify(x)} is not a quantity; ${give(`"${example}"`)}`;
  if (x < 0) return `${field}: ${x} is negative; ${give(`"${example}"`)}`;
  if (x === 0 && limit.min > 0) return `${field}: 0 must be above zero; ${give(`"${example}"`)}`;
  // (the number in the SI unit offered where the field takes it and it is not the example itself)
  const bare = `${x} ${SI_UNIT[kind]}`;
  return `${field}: ${x} has no unit; ${give(withinLimit(x, limit) && bare !== example ? `"${bare}" or "${example}"` : `"${example}"`)}`;
}

const isObject = (o: unknown): o is Record<string, unknown> => typeof o === "object" && o !== null && !Array.isArray(o);

/** A missing field told what to write (it was `field "attention": missing` alone): a figure's
 *  source that every figure names, a quantity its range and example, any other field the built-in
 *  engine to extend for every figure the file leaves out. */
export function missingWords(message: string): string {
  const path = /^field "([^"]+)": missing$/.exec(message)?.[1];
  if (path === undefined) return message;
  if (path.endsWith(".source")) return `${message}; every figure says where it comes from: add "source" beside its "value" (a paper and table, a file at a commit, or "prior: …" and why)`;
  const q = Object.hasOwn(ENGINE_QUANTITIES, path) ? ENGINE_QUANTITIES[path as EngineQuantityPath].limit : undefined;
  return `${message}; ${q ? `give ${q.what} ${q.words}` : "add it"} (or "extends": "megatron-core", a built-in engine, for every figure the file leaves out)`;
}
