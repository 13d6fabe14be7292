// Unit-bearing values from profile files ("600 GB/s", "80 GiB", "5 us", "989 TFLOP/s") → SI
// numbers, through mathjs's unit system. Used when files are read, never in the search loop.
import { createRequire } from "node:module";
import type * as MathJs from "mathjs";

type Units = Pick<MathJs.MathJsInstance, "unit">;

/** mathjs with its unit system and the FLOP unit. Loaded on the first parse, not with this
 *  module: loading it and building its unit tables takes ~0.3 s, longer than a whole plan, and the
 *  CLI reads its built-in profiles as the build parsed them (src/builtins.ts), with no unit to
 *  parse. The single-file bundle loads in ~0.1 s against ~0.9 s for mathjs's ESM tree of small
 *  modules; same library, same API. Loaded once: the instance never changes after it is set up. */
const mathUnits: () => Units = (() => {
  let instance: Units | undefined;
  return () => {
    if (instance) return instance;
    const mathjs = createRequire(import.meta.url)("mathjs/lib/browser/math.js") as typeof MathJs;
    const math = mathjs.create({
      unitDependencies: mathjs.unitDependencies!,
      createUnitDependencies: mathjs.createUnitDependencies!,
    });
    math.createUnit("FLOP", { aliases: ["FLOPs", "flop", "flops"], prefixes: "short" });
    return (instance = math);
  };
})();

export type Quantity = "bytes" | "bytes/s" | "seconds" | "FLOP/s" | "watts";

const TARGET: Record<Quantity, string> = {
  bytes: "B",
  "bytes/s": "B/s",
  seconds: "s",
  "FLOP/s": "FLOP/s",
  watts: "W",
};

const EXAMPLE: Record<Quantity, string> = {
  bytes: '"80 GiB"',
  "bytes/s": '"300 GB/s"',
  seconds: '"5 us"',
  "FLOP/s": '"989 TFLOP/s"',
  watts: '"700 W"',
};

export type ParseResult = { ok: true; value: number } | { ok: false; message: string };

/** Parse "<number> <unit>" into the SI value of the given quantity. Decimal prefixes are powers
 *  of 1000 (GB), binary ones powers of 1024 (GiB); b is a bit and B a byte, as in the SI/IEC. */
export function parseQuantity(text: string, quantity: Quantity): ParseResult {
  const cleaned = text.trim().replace(/µ|μ/g, "u");
  // "1 KB": mathjs has no K; kilo is k (SI), 1024 is Ki (IEC).
  if (/^[0-9.eE+-]+\s*K(?!i)[A-Za-z]/.test(cleaned))
    return { ok: false, message: `"${text}" is not a ${quantity} value: K is not an SI prefix; write k (kilo, 1000: kB) or Ki (1024: KiB)` };
  if (/^-\s*[0-9.]/.test(cleaned) && !/^-\s*0*\.?0*\s*[A-Za-z]/.test(cleaned))
    return { ok: false, message: `"${text}" is negative; a ${quantity} value is at least 0, like ${EXAMPLE[quantity]}` };
  try {
    const unit = mathUnits().unit(cleaned);
    if (unit.value === null) throw new Error("no number");
    // A size in bits ("80 Gb") converts, to an eighth of the bytes meant: memories and buffers are
    // given in bytes, so a bit there is a slip of the case (bandwidths may be in bits: 400 Gb/s).
    if (quantity === "bytes" && unit.units.some((u) => u.unit.name === "b" || u.unit.name === "bits"))
      return { ok: false, message: `"${text}" is in bits; a size is in bytes, written like ${EXAMPLE[quantity]} (B, not b)` };
    const value = unit.toNumber(TARGET[quantity]);
    if (!Number.isFinite(value) || value < 0) throw new Error("not a non-negative number");
    // Round away binary noise from prefix arithmetic (5 us → 4.9999999999999996e-6).
    return { ok: true, value: Number(value.toPrecision(12)) };
  } catch {
    return { ok: false, message: `"${text}" is not a ${quantity} value; write it like ${EXAMPLE[quantity]}` };
  }
}
