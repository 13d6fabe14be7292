// Profile reuse (planner/schema/extends.ts): `extends` merges a whole file, `{ "sameAs": … }` takes
// one figure from another profile at the same path. Synthetic profiles through a lookup table, so
// every case is a hand-written expectation.
import { describe, expect, it } from "vitest";
import { mergeProfiles, resolveExtends } from "../../planner/schema/extends.js";

const BASE = {
  name: "base",
  gpu: {
    attentionEfficiency: { value: 0.2, source: "fitted on rows" },
    reserve: "2 GiB",
    matmulEfficiency: { source: "table", points: [[1e9, 0.3], [1e12, 0.7]] },
  },
  network: { bandwidth: "50 GB/s" },
};
const files: Record<string, unknown> = {
  base: BASE,
  sibling: { name: "sibling", gpu: { attentionEfficiency: { sameAs: "base", source: "same die" }, reserve: "3 GiB" } },
  loopA: { name: "loopA", gpu: { reserve: { sameAs: "loopB" } } },
  loopB: { name: "loopB", gpu: { reserve: { sameAs: "loopA" } } },
  sibling2: { name: "sibling2", gpu: { matmulEfficiency: { sameAs: "base" } } },
  selfish: { name: "selfish", extends: "selfish" },
};
const lookup = (name: string) => files[name];
const resolve = (raw: unknown) => resolveExtends(raw, lookup, "mine.json");
const message = (raw: unknown) => {
  const r = resolve(raw);
  return r.ok ? "" : r.message;
};

describe("sameAs figures", () => {
  it("take the named profile's figure at the same path, its source followed by the reason", () => {
    const r = resolve({ name: "mine", gpu: { attentionEfficiency: { sameAs: "base", source: "same die" } } });
    expect(r.ok && (r.value as typeof BASE).gpu.attentionEfficiency).toEqual({ value: 0.2, source: "fitted on rows; as base's figure: same die" });
  });

  it("with scale, a share of the figure: a value times it, each point of a table times it; refused beyond (0, 1] or on a quantity", () => {
    const r = resolve({ name: "mine", gpu: { attentionEfficiency: { sameAs: "base", scale: 0.5, source: "measured at half" }, matmulEfficiency: { sameAs: "base", scale: 0.5 } } });
    if (!r.ok) throw new Error(r.message);
    const gpu = (r.value as typeof BASE).gpu;
    // 0.2 × 0.5, and 0.3 × 0.5, 0.7 × 0.5 at the same FLOPs
    expect(gpu.attentionEfficiency).toEqual({ value: 0.1, source: "fitted on rows; as base × 0.5's figure: measured at half" });
    expect(gpu.matmulEfficiency.points).toEqual([[1e9, 0.15], [1e12, 0.35]]);
    expect(message({ name: "mine", gpu: { attentionEfficiency: { sameAs: "base", scale: 1.5 } } })).toMatch(/"scale" must be a number above 0 and at most 1/);
    expect(message({ name: "mine", gpu: { attentionEfficiency: { sameAs: "base", scale: 0 } } })).toMatch(/"scale" must be a number above 0 and at most 1/);
    expect(message({ name: "mine", gpu: { reserve: { sameAs: "base", scale: 0.5 } } })).toMatch(/field "gpu\.reserve": "scale" takes a share of an efficiency figure/);
    // (a count or a byte width is no share: QA halved gpusPerNode)
    expect(message({ name: "mine", node: { gpusPerNode: { sameAs: "base", scale: 0.5 } } })).toMatch(/field "node\.gpusPerNode": "scale" takes a share of an efficiency figure/);
  });

  it("copy a table whole, and give a bare value a source naming where it came from", () => {
    const r = resolve({ name: "mine", gpu: { matmulEfficiency: { sameAs: "base" }, reserve: { sameAs: "base" } } });
    if (!r.ok) throw new Error(r.message);
    const gpu = (r.value as typeof BASE).gpu;
    expect(gpu.matmulEfficiency).toEqual({ source: "table; as base's figure", points: [[1e9, 0.3], [1e12, 0.7]] });
    expect(gpu.reserve).toEqual({ value: "2 GiB", source: "as base's figure" });
  });

  it("resolve through `extends`: a file extending a profile with a reference gets the referenced figure", () => {
    const r = resolve({ extends: "sibling", name: "mine" });
    if (!r.ok) throw new Error(r.message);
    const gpu = (r.value as { gpu: Record<string, unknown> }).gpu;
    expect(gpu.attentionEfficiency).toEqual({ value: 0.2, source: "fitted on rows; as base's figure: same die" });
    expect(gpu.reserve).toBe("3 GiB");
  });

  it("give way to a table the extending file states itself, rather than merging into the reference", () => {
    const own = { source: "measured", points: [[1e9, 0.5]] };
    expect(mergeProfiles({ sameAs: "base", source: "same die" }, own)).toEqual(own);
    const r = resolve({ extends: "sibling", name: "mine", gpu: { attentionEfficiency: { value: 0.4, source: "measured" } } });
    expect(r.ok && (r.value as typeof BASE).gpu.attentionEfficiency).toEqual({ value: 0.4, source: "measured" });
  });

  it("a bare value replaces the base's sourced figure, an object-valued one too (not merged into { value, source })", () => {
    const bare = { fp16: { bufferBytesPerParam: 2, reduceBytesPerParam: 2 } };
    expect(mergeProfiles({ value: { bf16: { bufferBytesPerParam: 4, reduceBytesPerParam: 4 } }, source: "arguments.py" }, bare)).toEqual(bare);
    expect(mergeProfiles({ value: "4 us", source: "prior" }, "8 us")).toBe("8 us");
    // a source alone re-cites the base's value
    expect(mergeProfiles({ value: "4 us", source: "prior" }, { source: "measured" })).toEqual({ value: "4 us", source: "measured" });
  });

  it("refuse, naming the field, an unknown profile, a missing figure, extra keys, a bad name and a loop", () => {
    expect(message({ gpu: { reserve: { sameAs: "nope" } } })).toBe('mine.json: field "gpu.reserve": "sameAs": no built-in profile "nope"');
    expect(message({ gpu: { memory: { sameAs: "base" } } })).toBe('mine.json: field "gpu.memory": "sameAs": profile "base" has no "gpu.memory"');
    expect(message({ gpu: { reserve: { sameAs: "base", value: "1 GiB" } } })).toBe('mine.json: field "gpu.reserve": a "sameAs" figure takes only "source" and "scale" beside it, not "value"');
    expect(message({ gpu: { reserve: { sameAs: 3 } } })).toBe('mine.json: field "gpu.reserve": "sameAs" must be a built-in profile name or a .json file');
    expect(message({ gpu: { reserve: { sameAs: "base", source: "" } } })).toBe('mine.json: field "gpu.reserve": "source" must be a non-empty string');
    expect(message({ gpu: { reserve: { sameAs: "loopA" } } })).toMatch(/"sameAs" loops through "loopA"/);
  });

  it("let a file replace a table its base takes by reference whole (its own points, its own source to give), and share a built-in's name", () => {
    // QA: merged key by key, the file's points kept the base's source, citing a calibration they
    // never had; the schema now asks the file for the table's source
    const r = resolve({ extends: "sibling2", name: "mine", gpu: { matmulEfficiency: { points: [[1e9, 0.4]] } } });
    if (!r.ok) throw new Error(r.message);
    expect((r.value as typeof BASE).gpu.matmulEfficiency).toEqual({ points: [[1e9, 0.4]] });
    const named = resolveExtends({ extends: "base", name: "base" }, lookup, "base.json");
    expect(named.ok).toBe(true);
    expect(resolveExtends({ extends: "selfish" }, lookup, "mine.json")).toEqual({ ok: false, message: 'selfish.json: "extends" loops through "selfish"' });
  });
});

describe("a profile of the other kind", () => {
  // An engine file extending a hardware profile was told there is no such profile.
  const hardwareNames = new Set(["base", "sibling"]);
  const engine = { kind: "engine" as const, otherBuiltin: (n: string) => hardwareNames.has(n) };
  const engineMessage = (raw: unknown, look = (n: string) => (hardwareNames.has(n) ? undefined : files[n])) => {
    const r = resolveExtends(raw, look, "mine.json", engine);
    return r.ok ? "" : r.message;
  };

  it("a built-in of the other kind is named as one, by extends and by sameAs", () => {
    expect(engineMessage({ extends: "base" })).toBe('mine.json: field "extends": "base" is a built-in hardware profile, not an engine');
    expect(engineMessage({ overlapSlowdown: { sameAs: "sibling" } })).toBe('mine.json: field "overlapSlowdown": "sameAs": "sibling" is a built-in hardware profile, not an engine');
    // A name of neither kind is still unknown, said as the kind the file is (it was "profile" for an
    // engine file too)
    expect(engineMessage({ extends: "nope" })).toBe('mine.json: field "extends": no built-in engine "nope"');
  });

  it("a file of the other kind is named by the key that gives it away, through a chain too", () => {
    const userFiles: Record<string, unknown> = { "/t/hw.json": { name: "hw", extends: "base", gpu: { reserve: "1 GiB" } }, "/t/mid.json": { name: "mid", extends: "/t/hw.json" } };
    const look = (n: string) => userFiles[n];
    expect(engineMessage({ extends: "/t/hw.json" }, look)).toBe('mine.json: field "extends": hw.json is a hardware profile (it has "gpu"), not an engine');
    expect(engineMessage({ extends: "/t/mid.json" }, look)).toBe('mid.json: field "extends": hw.json is a hardware profile (it has "gpu"), not an engine');
    // A hardware file extending an engine file: the same, the other way.
    const hw = resolveExtends({ extends: "/t/e.json" }, () => ({ name: "e", attention: {} }), "mine.json", { kind: "hardware profile", otherBuiltin: () => false });
    expect(hw.ok ? "" : hw.message).toBe('mine.json: field "extends": e.json is an engine (it has "attention"), not a hardware profile');
  });
});
