// QA: an engine profile's quantities that did not read were told only an example of the quantity,
// not the field's range: a bare "5" for launch.perKernel "is not a seconds value; write it like
// "5 us"" (not that the unit was missing), a bare "80" for dataParallel.bucketSize or "64" for
// fp8.scalingStatePerGemm "like 80 GiB" (80 times the largest bucket, a billion times the state
// of a GEMM); one out of its bounds said them in the file's units, "(0 B to 954 MiB)", with no
// example. Each is now one line naming the field, the value, what is wrong, the range and an
// example from the built-in engines, as a hardware profile's (./hardware-messages.test.ts).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEngineFile, resolveExtends } from "../../planner/index.js";
import { ROOT, readJson } from "./fixtures.js";

const builtin = (name: string): unknown => {
  try {
    return readJson(join(ROOT, "profiles", "engines", `${name}.json`));
  } catch {
    return undefined;
  }
};

function parsed(over: Record<string, unknown>) {
  const merged = resolveExtends({ name: "mine", extends: "megatron-core", ...over }, builtin, "mine.json");
  return merged.ok ? parseEngineFile(merged.value, "mine.json") : merged;
}

function refused(over: Record<string, unknown>): string {
  const r = parsed(over);
  return r.ok ? "(taken)" : r.message;
}

const launch = "give the host time a kernel launch costs from 0 to 1 ms, like 8 us";
const bucket = "give a gradient bucket's size from 1 MiB to 1 TB, like 80 MB";
const perDp = "give the gradient bucket's size per data-parallel rank from 0 to 1 TB, like 2 MB";
const scaling = "give the fp8 scaling state per GEMM from 0 to 1 GB, like 64 B";

describe("an engine file's quantities without a unit, in another unit, negative, zero or out of bounds", () => {
  it.each([
    // (5 s, past the bound, is not offered as the bare number's reading)
    [{ launch: { perKernel: { value: "5", source: "test" } } }, `field "launch.perKernel": "5" has no unit; ${launch}`],
    [{ launch: { perKernel: "2 ms" } }, `field "launch.perKernel": "2 ms" is out of range; ${launch}`],
    [{ launch: { perKernel: "8 s" } }, `field "launch.perKernel": "8 s" is out of range; ${launch}`],
    [{ launch: { perKernel: "-1 us" } }, `field "launch.perKernel": "-1 us" is negative; ${launch}`],
    [{ launch: { perKernel: "5 GB" } }, `field "launch.perKernel": "5 GB" is not a seconds value; ${launch}`],
    [{ launch: { perKernel: "8 furlongs" } }, `field "launch.perKernel": "8 furlongs" is not a seconds value; ${launch}`],
    // (a size's "K is not an SI prefix; write kB" is no help for a time)
    [{ launch: { perKernel: "1 KB" } }, `field "launch.perKernel": "1 KB" is not a seconds value; ${launch}`],
    [{ launch: { perKernel: "1e400 us" } }, `field "launch.perKernel": "1e400 us" is out of range; ${launch}`],
    // (80 B, below the bound, is not offered; 40000000 B within it is)
    [{ dataParallel: { bucketSize: "80" } }, `field "dataParallel.bucketSize": "80" has no unit; ${bucket}`],
    [{ dataParallel: { bucketSize: "40000000" } }, `field "dataParallel.bucketSize": "40000000" has no unit; give a gradient bucket's size from 1 MiB to 1 TB, like 40000000 B or 80 MB`],
    [{ dataParallel: { bucketSize: "0 B" } }, `field "dataParallel.bucketSize": "0 B" must be above zero; ${bucket}`],
    [{ dataParallel: { bucketSize: "512 KiB" } }, `field "dataParallel.bucketSize": "512 KiB" is out of range; ${bucket}`],
    [{ dataParallel: { bucketSize: { value: "2 TB", source: "test" } } }, `field "dataParallel.bucketSize": "2 TB" is out of range; ${bucket}`],
    [{ dataParallel: { bucketSize: "-5 MB" } }, `field "dataParallel.bucketSize": "-5 MB" is negative; ${bucket}`],
    [{ dataParallel: { bucketSize: "80 Mb" } }, `field "dataParallel.bucketSize": "80 Mb" is in bits; a size is in bytes (B, not b); ${bucket}`],
    [{ dataParallel: { bucketSize: "80 KB" } }, `field "dataParallel.bucketSize": "80 KB" is not a bytes value: K is not an SI prefix; write k (kilo, 1000: kB) or Ki (1024: KiB); ${bucket}`],
    [{ dataParallel: { bucketSize: "80 MW" } }, `field "dataParallel.bucketSize": "80 MW" is not a bytes value; ${bucket}`],
    [{ dataParallel: { bucketSizePerDp: "2" } }, `field "dataParallel.bucketSizePerDp": "2" has no unit; give the gradient bucket's size per data-parallel rank from 0 to 1 TB, like 2 B or 2 MB`],
    [{ dataParallel: { bucketSizePerDp: "2 TB" } }, `field "dataParallel.bucketSizePerDp": "2 TB" is out of range; ${perDp}`],
    // (the example itself is not offered twice: "64 B or 64 B")
    [{ fp8: { scalingStatePerGemm: "64" } }, `field "fp8.scalingStatePerGemm": "64" has no unit; ${scaling}`],
    [{ fp8: { scalingStatePerGemm: "2 GB" } }, `field "fp8.scalingStatePerGemm": "2 GB" is out of range; ${scaling}`],
    [{ fp8: { scalingStatePerGemm: "64 b" } }, `field "fp8.scalingStatePerGemm": "64 b" is in bits; a size is in bytes (B, not b); ${scaling}`],
  ])("%j", (over, message) => {
    expect(refused(over)).toBe(`mine.json: ${message}`);
  });

  it("the bounds themselves, and 0 where 0 is a value, with a unit or without, load", () => {
    const r = parsed({ launch: { perKernel: "1 ms" }, dataParallel: { bucketSize: "1 MiB", bucketSizePerDp: "0" }, fp8: { scalingStatePerGemm: "1 GB" } });
    expect(r.ok && [r.value.launch.perKernel, r.value.dataParallel.bucketSize, r.value.dataParallel.bucketSizePerDp, r.value.fp8.scalingBytesPerGemm]).toEqual([1e-3, 2 ** 20, 0, 1e9]);
    const z = parsed({ launch: { perKernel: "0" }, dataParallel: { bucketSize: "1 TB", bucketSizePerDp: "1 TB" }, fp8: { scalingStatePerGemm: "0 B" } });
    expect(z.ok && [z.value.launch.perKernel, z.value.dataParallel.bucketSize, z.value.dataParallel.bucketSizePerDp, z.value.fp8.scalingBytesPerGemm]).toEqual([0, 1e12, 1e12, 0]);
  });

  it("each example a message offers loads in its field", () => {
    const r = parsed({ launch: { perKernel: "8 us" }, dataParallel: { bucketSize: "80 MB", bucketSizePerDp: "2 MB" }, fp8: { scalingStatePerGemm: "64 B" } });
    expect(r.ok && [r.value.launch.perKernel, r.value.dataParallel.bucketSize, r.value.dataParallel.bucketSizePerDp, r.value.fp8.scalingBytesPerGemm]).toEqual([8e-6, 80e6, 2e6, 64]);
  });
});

// QA: a quantity written as a JSON number was told zod's "Invalid input: expected string, received
// number; a quantity is written with its unit, like "80 B"" (a bucket the field refuses) and no
// range; "" and null zod's own "Too small: expected string to have >=1 characters" and "expected
// string, received null".
describe("an engine file's quantity that is not text", () => {
  const text = (what: string, like: string) => `give ${what} as text with its unit, like ${like}`;
  it.each([
    [{ launch: { perKernel: 5 } }, `field "launch.perKernel": 5 has no unit; ${text("the host time a kernel launch costs from 0 to 1 ms", '"8 us"')}`],
    [{ launch: { perKernel: { value: 5, source: "test" } } }, `field "launch.perKernel.value": 5 has no unit; ${text("the host time a kernel launch costs from 0 to 1 ms", '"8 us"')}`],
    [{ launch: { perKernel: 0 } }, `field "launch.perKernel": 0 has no unit; ${text("the host time a kernel launch costs from 0 to 1 ms", '"0 s" or "8 us"')}`],
    [{ launch: { perKernel: "" } }, `field "launch.perKernel": "" is empty; ${text("the host time a kernel launch costs from 0 to 1 ms", '"8 us"')}`],
    [{ launch: { perKernel: null } }, `field "launch.perKernel": null is not a quantity; ${text("the host time a kernel launch costs from 0 to 1 ms", '"8 us"')}`],
    [{ launch: { perKernel: Infinity } }, `field "launch.perKernel": a number past a double's range (1e400 reads as Infinity) is out of range; ${text("the host time a kernel launch costs from 0 to 1 ms", '"8 us"')}`],
    // (80 B is below the bucket's 1 MiB: not offered)
    [{ dataParallel: { bucketSize: 80 } }, `field "dataParallel.bucketSize": 80 has no unit; ${text("a gradient bucket's size from 1 MiB to 1 TB", '"80 MB"')}`],
    [{ dataParallel: { bucketSize: 40000000 } }, `field "dataParallel.bucketSize": 40000000 has no unit; ${text("a gradient bucket's size from 1 MiB to 1 TB", '"40000000 B" or "80 MB"')}`],
    [{ dataParallel: { bucketSize: 0 } }, `field "dataParallel.bucketSize": 0 must be above zero; ${text("a gradient bucket's size from 1 MiB to 1 TB", '"80 MB"')}`],
    [{ dataParallel: { bucketSizePerDp: -2 } }, `field "dataParallel.bucketSizePerDp": -2 is negative; ${text("the gradient bucket's size per data-parallel rank from 0 to 1 TB", '"2 MB"')}`],
    [{ fp8: { scalingStatePerGemm: true } }, `field "fp8.scalingStatePerGemm": true is not a quantity; ${text("the fp8 scaling state per GEMM from 0 to 1 GB", '"64 B"')}`],
    [{ fp8: { scalingStatePerGemm: 64 } }, `field "fp8.scalingStatePerGemm": 64 has no unit; ${text("the fp8 scaling state per GEMM from 0 to 1 GB", '"64 B"')}`],
  ])("%j", (over, message) => {
    expect(refused(over)).toBe(`mine.json: ${message}`);
  });

  it("a sourced value without its source is told so, and what a source is", () => {
    expect(refused({ launch: { perKernel: { value: "5 us" } } })).toBe('mine.json: field "launch.perKernel.source": missing; every figure says where it comes from: add "source" beside its "value" (a paper and table, a file at a commit, or "prior: …" and why)');
  });

  it("a field missing from a file that extends nothing says what to write, and the engine to extend", () => {
    const standalone = (drop: (f: Record<string, any>) => void) => {
      const f = structuredClone(builtin("megatron-core")) as Record<string, any>;
      drop(f);
      const p = parseEngineFile({ ...f, name: "mine" }, "mine.json");
      return p.ok ? "(taken)" : p.message;
    };
    const extend = '(or "extends": "megatron-core", a built-in engine, for every figure the file leaves out)';
    expect(standalone((f) => delete f.launch.perKernel)).toBe(`mine.json: field "launch.perKernel": missing; ${launch} ${extend}`);
    expect(standalone((f) => delete f.attention)).toBe(`mine.json: field "attention": missing; add it ${extend}`);
  });
});
