// The build's table of the built-in profiles' unit figures (src/units-table.ts): it holds every
// figure of every built-in profile, each exactly as mathjs reads it, and a built-in profile read
// through it is the profile read through mathjs.
import { describe, expect, it } from "vitest";
import { parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { type QuantityParser, knownQuantities, parseQuantity, quantityKey } from "../../planner/units.js";
import { builtinProfiles, builtinRaw } from "../../src/load.js";
import { resolveBuiltinUnits } from "../../src/units-table.js";

const table = resolveBuiltinUnits();
const merged = (name: string) => {
  const m = resolveExtends(builtinRaw(name), builtinRaw, `${name}.json`);
  if (!m.ok) throw new Error(m.message);
  return m.value;
};

describe("units table of the built-in profiles", () => {
  it("each entry is parseQuantity's value for its text and quantity", () => {
    expect(Object.keys(table).length).toBeGreaterThan(10);
    for (const [key, value] of Object.entries(table)) {
      const [quantity, text] = key.split("\t") as [Parameters<typeof parseQuantity>[1], string];
      expect(parseQuantity(text, quantity)).toEqual({ ok: true, value });
    }
  });

  it.each(builtinProfiles())("%s: every figure is in the table; read through it, the same Hardware as through mathjs", (name) => {
    const missing: string[] = [];
    const tableOnly: QuantityParser = (text, quantity) => {
      const key = quantityKey(text, quantity);
      if (!(key in table)) missing.push(key);
      return { ok: true, value: table[key] ?? NaN };
    };
    const viaTable = parseHardwareFile(merged(name), `${name}.json`, tableOnly);
    expect(missing).toEqual([]);
    expect(viaTable).toEqual(parseHardwareFile(merged(name), `${name}.json`));
    expect(parseHardwareFile(merged(name), `${name}.json`, knownQuantities(table))).toEqual(viaTable);
  });

  it("a figure not in the table goes through mathjs, errors included", () => {
    const parse = knownQuantities(table);
    expect(parse("123 GB/s", "bytes/s")).toEqual({ ok: true, value: 123e9 });
    expect(parse("fast", "bytes/s")).toEqual(parseQuantity("fast", "bytes/s"));
    expect(parse("fast", "bytes/s").ok).toBe(false);
  });
});
