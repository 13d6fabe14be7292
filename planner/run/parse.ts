// The whole run's text inputs → numbers, as values: token counts ("15.6T"), durations ("90d"),
// GPU counts to sweep ("256..16384" or "256,1024,4096"). No I/O.

export type ParsedValue<T> = { ok: true; value: T } | { ok: false; message: string };

const TOKEN_SUFFIX: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };

/** Most tokens a run may name: 10^16, a thousand times Llama 3's 15.6T. */
export const MAX_TOKENS = 1e16;

// Separators only between groups of three digits ("1,000,000", "1_000_000"): "1,5T" (a decimal
// comma) is not 15T.
const TOKENS = /^\s*((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?:_[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([kmbgt])?\s*$/i;

/** "15.6T", "300B", "2e12", "500M", "1,000,000" → tokens (k, M, B or G, T: powers of 1000). */
export function parseTokens(text: string): ParsedValue<number> {
  const m = TOKENS.exec(text);
  const bad = { ok: false as const, message: `"${text}" is not a token count; write it like 15.6T, 300B, 2e12 or 1,000,000 (a point for decimals)` };
  // A count that reads but is negative ("-1T"): below one token, as 0 is, not unreadable.
  if (!m) return /^\s*-/.test(text) && TOKENS.test(text.replace(/^\s*-\s*/, "")) ? { ok: false, message: `"${text}" is below 1 token: a run trains at least one` } : bad;
  // The suffix as a power of ten added to the exponent, so the decimal is read as written:
  // "15.6T" is the literal 15.6e12 = 15,600,000,000,000, not 15.6 × 1e12 = 15,600,000,000,000.002.
  const [mantissa, exponent] = m[1]!.replace(/[,_]/g, "").toLowerCase().split("e");
  const power = Number(exponent ?? 0) + (m[2] ? Math.log10(TOKEN_SUFFIX[m[2].toLowerCase()]!) : 0);
  // (an exponent past a double's, 1e1e21 once written out, read as NaN: as large or small as any)
  const n = Number(`${mantissa}e${power}`) || (Number(mantissa) === 0 || power < 0 ? 0 : Infinity);
  // (past a double's range, 1e400: as many as any, too many, not unreadable)
  if (n === Infinity) return { ok: false, message: `"${text}" is too many tokens: at most 1e16` };
  // A count that reads but is under one token ("0.5", "0"): said as such, not as unreadable.
  if (n < 1) return { ok: false, message: `"${text}" is below 1 token: a run trains at least one` };
  if (n > MAX_TOKENS) return { ok: false, message: `"${text}" is too many tokens: at most 1e16` };
  // A token is not divided: "1.5" read as 1.5 and then as 2 tokens (text) and 1.5 (JSON).
  if (!Number.isInteger(n)) return { ok: false, message: `"${text}" is not a whole number of tokens; write a count like 2, 1.5k or 15.6T` };
  return { ok: true, value: n };
}

const DURATION_UNIT: Record<string, number> = { s: 1, min: 60, m: 60, h: 3600, d: 86400, w: 604800 };
/** Every unit parseDuration knows, in the order messages list them. */
export const DURATION_UNITS = Object.keys(DURATION_UNIT);
/** The units' names, as a profile writes them ("1 day", "10 minutes"): each is its short unit. */
const DURATION_NAME: Record<string, string> = {
  sec: "s", secs: "s", second: "s", seconds: "s",
  mins: "min", minute: "min", minutes: "min",
  hr: "h", hrs: "h", hour: "h", hours: "h",
  day: "d", days: "d",
  week: "w", weeks: "w",
};

/** Each short unit's name for messages (its plural is taken too). */
const NAME_OF: Record<string, string> = { s: "second", min: "minute", h: "hour", d: "day", w: "week" };

/** "90d", "12h", "2w", "10min", "30s", "1.5e1min", "1 day", "10 minutes" → seconds (s, m or min,
 *  h, d, w, or their names: sec, minute, hour, day, week, singular or plural), positive; zero too
 *  with `zero`, written with or without a unit (a restart that takes no time is a bound worth asking about; a deadline of 0 is
 *  not). `units`: the short units taken (their names with them). `example`: a duration of the
 *  value's own scale for the message (default 90d where days are taken). The one parser of
 *  durations: the run flags and the profile's run.restartTime alike. */
export function parseDuration(text: string, units: readonly string[] = DURATION_UNITS, zero = false, example?: string): ParsedValue<number> {
  // Exponents as --tokens takes them ("1e9h"): too long is then said as such, not as unreadable.
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([a-z]+)\s*$/i.exec(text);
  const like = example ?? (units.includes("d") ? "90d" : `10${units[0]}`);
  // A number alone, or signed: zero is zero in any unit ("0", taken where "0s" is: it was "not a
  // duration"), and a negative one is said as such, not as unreadable ("-1min" was "not a duration").
  const signed = /^\s*([+-]?)([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$/i.exec(text);
  const known = (u: string) => u === "" || DURATION_UNIT[DURATION_NAME[u] ?? u] !== undefined;
  if (signed && known(signed[3]!) && /^0*\.?0*(e|$)/i.test(signed[2]!)) return zero ? { ok: true, value: 0 } : { ok: false, message: `"${text}" must be above zero` };
  if (signed && signed[1] === "-" && known(signed[3]!))
    return { ok: false, message: `"${text}" is negative; give ${zero ? "0 or more" : "a duration above zero"}, like ${like}` };
  // Units as written, case and all: "10 M" is not 10 minutes (M is mega, or a month).
  const written = m?.[2];
  const unit = written === undefined ? undefined : (DURATION_NAME[written] ?? written);
  const lower = written?.toLowerCase();
  const casedAs = lower === undefined ? undefined : (DURATION_NAME[lower] ?? lower);
  const cased = written !== undefined && written !== lower && casedAs !== undefined && units.includes(casedAs) ? ` (units are lower case: ${written} is not ${lower})` : "";
  const names = units.map((u) => NAME_OF[u]).filter((n) => n !== undefined);
  const bad = { ok: false as const, message: `"${text}" is not a duration; write a number and one of ${units.join(", ")}${names.length ? ` (or ${names.join(", ")})` : ""}, like ${like}${cased}` };
  if (!m || unit === undefined || !units.includes(unit) || DURATION_UNIT[unit] === undefined) return bad;
  const s = Number(m[1]) * DURATION_UNIT[unit];
  if (s === 0 && !zero) return { ok: false, message: `"${text}" must be above zero` };
  // (a number past a double's range, 1e400h, is as long as any: too long, not unreadable)
  if (!(s <= 100 * 365 * 86400)) return { ok: false, message: `"${text}" is too long: at most 100 years` };
  return { ok: true, value: s };
}

/** Most GPU counts one sweep evaluates. */
export const MAX_SWEEP_POINTS = 24;

/** "256..16384" → the powers of two from 256 to 16,384; "256,1000,4096" → those counts, sorted,
 *  without repeats. Each count from 1 to `maxGpus`, at most MAX_SWEEP_POINTS of them. */
export function parseGpuList(text: string, maxGpus: number): ParsedValue<number[]> {
  const bad = (why: string) => ({ ok: false as const, message: `"${text}" ${why}` });
  const range = /^\s*(-?[0-9]+)\s*\.\.\s*(-?[0-9]+)\s*$/.exec(text);
  // A count below one GPU ("0", "-8..64", "64,0"): said as such, not as unreadable.
  const below = "has a GPU count below 1: each is at least 1, like 256..16384 or 256,1024,4096";
  let counts: number[];
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo < 1 || hi < 1) return bad(below);
    if (hi < lo) return bad("is not a range of GPU counts; write it like 256..16384 (low..high)");
    if (hi > maxGpus) return bad(`goes beyond ${maxGpus.toLocaleString("en-US")} GPUs`);
    counts = [];
    for (let n = 1; n <= hi; n *= 2) if (n >= lo) counts.push(n);
    if (counts.length === 0) return bad("holds no power of two; give a comma list instead, like 3000,6000");
  } else {
    const parts = text.split(",").map((p) => p.trim());
    if (parts.every((p) => /^-?[0-9]+$/.test(p)) && parts.some((p) => Number(p) < 1)) return bad(below);
    if (parts.some((p) => !/^[0-9]+$/.test(p) || Number(p) < 1)) return bad("is not a range (256..16384) or a comma list (256,1024,4096) of GPU counts");
    counts = [...new Set(parts.map(Number))].sort((a, b) => a - b);
    if (counts[counts.length - 1]! > maxGpus) return bad(`goes beyond ${maxGpus.toLocaleString("en-US")} GPUs`);
  }
  if (counts.length > MAX_SWEEP_POINTS) return bad(`names ${counts.length} GPU counts: at most ${MAX_SWEEP_POINTS}`);
  return { ok: true, value: counts };
}
