// A quantity with its unit ("2 TB/s", "64 GB/s") read where zero, a sign, a bare number or a
// number past a double's range is said as such: "0" must be above zero (it was "not a bytes/s
// value"), "-1 TB/s" is negative (it was told "at least 0", which 0 is not), "2e12" has no unit,
// "1e400 TB/s" is out of range. The one reader of the run flags' bandwidths (src/run-args.ts) and
// a hardware profile's quantities (./hardware.ts). No I/O.
import { type RunLimit, giveWithin, withinLimit } from "../run/limits.js";
import type { ParsedValue } from "../run/parse.js";
import { type Quantity, parseQuantity } from "../units.js";

/** How a quantity is written, for "has no unit": the words, the SI unit after the bare number,
 *  and an example. */
const WRITTEN: Record<Quantity, { words: string; unit: string; like: string }> = {
  bytes: { words: "bytes", unit: "B", like: "80 GiB" },
  "bytes/s": { words: "bytes or bits a second", unit: "B/s", like: "300 GB/s" },
  seconds: { words: "a time", unit: "s", like: "5 us" },
  "FLOP/s": { words: "FLOP a second", unit: "FLOP/s", like: "989 TFLOP/s" },
  watts: { words: "watts", unit: "W", like: "700 W" },
};

export interface MagnitudeRule {
  /** Whether 0 is a value (a latency, a reserve); zero in any unit, or none, is then 0. */
  zero?: boolean;
  /** The bounds the value must lie within; what is wrong is followed by what to give, its range
   *  in words ("give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2 TB/s"), and a
   *  bare number by its example. Absent: an example of the quantity. */
  limit?: RunLimit;
  /** Bounds said in every message as the limit's are, but checked by the caller (a profile's
   *  plausible ranges, ./plausible.ts, refused there as a unit slip): "700 GB" for a board power was
   *  told only "write it like 700 W", not the field's range. */
  range?: RunLimit;
  /** Said after what to give (", or null for a precision the GPU lacks"). */
  tail?: string;
}

const NUMBER = /^\s*([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?\s*(.*?)\s*$/i;

/** `text` as the SI value of `quantity`, or a message `"<text>" <what is wrong>` for the caller to
 *  put after the field or flag it names. */
export function parseMagnitude(text: string, quantity: Quantity, rule: MagnitudeRule = {}): ParsedValue<number> {
  const written = WRITTEN[quantity];
  const bounds = rule.limit ?? rule.range;
  const like = bounds?.words.split("like ")[1] ?? written.like;
  // (the example replaced where a bare number is read in the quantity's SI unit)
  const giveLike = (example: string) =>
    (bounds ? giveWithin({ ...bounds, words: bounds.words.replace(/like .*$/, `like ${example}`) }) : `write it like ${example}`) + (rule.tail ?? "");
  const give = giveLike(like);
  const fail = (why: string) => ({ ok: false as const, message: `"${text}" ${why}` });
  const num = NUMBER.exec(text);
  if (num) {
    const [, sign, mantissa, exponent = "", unit] = num;
    const unitReads = unit === "" || parseQuantity(`1 ${unit}`, quantity).ok;
    if (/^0*\.?0*$/.test(mantissa!) && unitReads) return rule.zero ? { ok: true, value: 0 } : fail(`must be above zero; ${give}`);
    if (sign === "-") return unitReads ? fail(`is negative; ${give}`) : fail(`is not a ${quantity} value; ${give}`);
    if (unit === "") {
      // The bare number in the SI unit offered only where that is a value to give ("80" for a
      // GPU's memory was told "like 80 B", below any GPU's) and not the example itself ("700 W or 700 W").
      const bare = `${mantissa}${exponent} ${written.unit}`;
      const offered = (!bounds || withinLimit(Number(`${mantissa}${exponent}`), bounds)) && bare !== like ? `${bare} or ${like}` : like;
      return fail(`has no unit; ${bounds ? giveLike(offered) : `write ${written.words}, like ${offered}${rule.tail ?? ""}`}`);
    }
    if (Number(`${mantissa}${exponent}`) === Infinity && unitReads) return fail(`is out of range; ${give}`);
  }
  const q = parseQuantity(text, quantity);
  // (a unit of another quantity, "700 GB" for watts, told the range too, not only an example; a
  // number and a unit that both read but whose product passes a double, "1e308 GB", out of range)
  if (!q.ok && num && parseQuantity(`1 ${num[4]}`, quantity).ok && /is not a .* value; write it like/.test(q.message)) return fail(`is out of range; ${give}`);
  if (!q.ok) return bounds ? { ok: false, message: q.message.replace(/; write it like .*$/, `; ${give}`) } : q;
  if (rule.limit && !withinLimit(q.value, rule.limit)) return fail(`is out of range; ${give}`);
  return q;
}
