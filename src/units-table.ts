// The unit-bearing figures of the built-in hardware profiles ("450 GB/s" → 4.5e11), resolved by
// mathjs (planner/units.ts parseQuantity) when paraplan is built: `npm run build` runs this file,
// which writes them to dist/src/units-table.json (load.ts unitsTablePath), and load.ts reads a
// built-in profile through that table (knownQuantities) instead of loading mathjs's unit system
// (~0.3 s, more than a whole plan). Nothing of it is in the sources: without a build, and for a
// figure edited since, parseQuantity runs as always; user files always go through mathjs.
import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseHardwareFile, resolveExtends } from "../planner/index.js";
import { type ParseResult, type QuantityParser, parseQuantity, quantityKey } from "../planner/units.js";
import { builtinProfiles, builtinRaw, unitsTablePath } from "./load.js";

/** quantityKey → value of every unit-bearing figure the built-in profiles hold (those that
 *  extend another included), as parseQuantity reads them. */
export function resolveBuiltinUnits(): Record<string, number> {
  const table: Record<string, number> = {};
  const recording: QuantityParser = (text, quantity): ParseResult => {
    const r = parseQuantity(text, quantity);
    if (r.ok) table[quantityKey(text, quantity)] = r.value;
    return r;
  };
  for (const name of builtinProfiles()) {
    const merged = resolveExtends(builtinRaw(name), builtinRaw, `${name}.json`);
    if (!merged.ok) throw new Error(merged.message);
    const parsed = parseHardwareFile(merged.value, `${name}.json`, recording);
    if (!parsed.ok) throw new Error(parsed.message);
  }
  return table;
}

/** Write the table where load.ts looks for it. */
export function writeUnitsTable(path = unitsTablePath()): void {
  writeFileSync(path, JSON.stringify(resolveBuiltinUnits(), null, 1) + "\n");
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) writeUnitsTable();
