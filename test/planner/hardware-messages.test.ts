// QA: a hardware profile's figures at 0, negative, without a unit, absurd or of the wrong type were
// said to be unreadable ("0" is not a bytes/s value), told "at least 0" (which 0 is not), or given
// zod's own words ("Too small: expected number to be >=0"). Each is one line naming the field, the
// value and what is wrong, in the words of the run flags that override them (src/run-args.ts).
import { describe, expect, it } from "vitest";
import { parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { rawHardware } from "./fixtures.js";

function refused(over: Record<string, unknown>): string {
  const merged = resolveExtends({ name: "mine", extends: "dgx-h100", ...over }, rawHardware, "mine.json");
  const r = merged.ok ? parseHardwareFile(merged.value, "mine.json") : merged;
  return r.ok ? "(taken)" : r.message;
}

describe("run.checkpointBandwidth and run.stagingBandwidth as --ckpt-bandwidth reads its value", () => {
  const ckpt = "give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2 TB/s";
  const staging = "give a per-GPU device-to-host bandwidth from 1 MB/s to 10 TB/s, like 64 GB/s";
  it.each([
    [{ checkpointBandwidth: "0" }, `field "run.checkpointBandwidth": "0" must be above zero; ${ckpt}`],
    [{ checkpointBandwidth: "0 B/s" }, `field "run.checkpointBandwidth": "0 B/s" must be above zero; ${ckpt}`],
    [{ checkpointBandwidth: "-1 TB/s" }, `field "run.checkpointBandwidth": "-1 TB/s" is negative; ${ckpt}`],
    [{ checkpointBandwidth: "2e12" }, 'field "run.checkpointBandwidth": "2e12" has no unit; give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2e12 B/s or 2 TB/s'],
    [{ checkpointBandwidth: "1e400 TB/s" }, `field "run.checkpointBandwidth": "1e400 TB/s" is out of range; ${ckpt}`],
    [{ checkpointBandwidth: "1000 TB/s" }, `field "run.checkpointBandwidth": "1000 TB/s" is out of range; ${ckpt}`],
    [{ stagingBandwidth: "0" }, `field "run.stagingBandwidth": "0" must be above zero; ${staging}`],
    [{ stagingBandwidth: "-64 GB/s" }, `field "run.stagingBandwidth": "-64 GB/s" is negative; ${staging}`],
    // (64 B/s, below the range, is not offered as the bare number's reading)
    [{ stagingBandwidth: "64" }, `field "run.stagingBandwidth": "64" has no unit; ${staging}`],
    [{ stagingBandwidth: "999 kB/s" }, `field "run.stagingBandwidth": "999 kB/s" is out of range; ${staging}`],
  ])("%j", (run, message) => {
    expect(refused({ run })).toBe(`mine.json: ${message}`);
  });

  it("within the range, written either way, they load", () => {
    const merged = resolveExtends({ name: "mine", extends: "dgx-h100", run: { checkpointBandwidth: { value: "2 TB/s", source: "x" }, stagingBandwidth: "1 MB/s" } }, rawHardware, "mine.json");
    const r = merged.ok ? parseHardwareFile(merged.value, "mine.json") : merged;
    expect(r.ok && r.value.run).toMatchObject({ checkpointBandwidth: 2e12, stagingBandwidth: 1e6 });
  });
});

describe("run.failuresPerGpuHour and run.pue as --pue reads its value", () => {
  const failures = "give failures per GPU-hour from 0 to 0.01 (one a GPU every 100 hours), like 2e-5";
  it.each([
    [{ failuresPerGpuHour: -1 }, `field "run.failuresPerGpuHour": -1 is negative; ${failures}`],
    [{ failuresPerGpuHour: 0.5 }, `field "run.failuresPerGpuHour": 0.5 is out of range; ${failures}`],
    [{ failuresPerGpuHour: { value: -2e-5, source: "x" } }, `field "run.failuresPerGpuHour": -0.00002 is negative; ${failures}`],
    [{ pue: -1 }, 'field "run.pue": -1 is negative; give a PUE from 1 to 10, like 1.1'],
    [{ pue: 0 }, 'field "run.pue": 0 is out of range; give a PUE from 1 to 10, like 1.1'],
    [{ pue: 11 }, 'field "run.pue": 11 is out of range; give a PUE from 1 to 10, like 1.1'],
  ])("%j", (run, message) => {
    expect(refused({ run })).toBe(`mine.json: ${message}`);
  });

  it("0 failures and the bounds themselves load", () => {
    for (const run of [{ failuresPerGpuHour: 0 }, { failuresPerGpuHour: 0.01 }, { pue: 1 }, { pue: 10 }]) expect(refused({ run }), JSON.stringify(run)).toBe("(taken)");
  });
});

describe("every other quantity of the file at 0, negative, without a unit, in another unit or past a double", () => {
  // QA: these were told only "write it like 700 W", not the field's range; a bare "80" GiB of
  // memory was offered "80 B", below any GPU's, and a bare "700" W "700 W or 700 W".
  const board = "give a GPU's board power from 10 W to 5 kW, like 700 W";
  const memory = "give a GPU's memory from 100 MB to 4 TB, like 80 GiB";
  const latency = "give a latency a hop from 0 to 10 ms, like 5 us";
  it.each([
    [{ run: { boardPower: "0" } }, `field "run.boardPower": "0" must be above zero; ${board}`],
    [{ run: { boardPower: "700" } }, `field "run.boardPower": "700" has no unit; ${board}`],
    [{ run: { boardPower: "700 GB" } }, `field "run.boardPower": "700 GB" is not a watts value; ${board}`],
    [{ run: { nodePower: "-1 kW" } }, 'field "run.nodePower": "-1 kW" is negative; give a node\'s power from 100 W to 200 kW, like 10.2 kW'],
    [{ run: { nodePower: "10200" } }, 'field "run.nodePower": "10200" has no unit; give a node\'s power from 100 W to 200 kW, like 10200 W or 10.2 kW'],
    [{ run: { boardPower: "1e400 W" } }, `field "run.boardPower": "1e400 W" is out of range; ${board}`],
    // (a number and a unit that read, whose product passes a double: was "is not a bytes value")
    [{ gpu: { memory: "1e308 GB" } }, `field "gpu.memory": "1e308 GB" is out of range; ${memory}`],
    [{ gpu: { memory: "0" } }, `field "gpu.memory": "0" must be above zero; ${memory}`],
    [{ gpu: { memory: "80" } }, `field "gpu.memory": "80" has no unit; ${memory}`],
    [{ gpu: { memory: "80 GW" } }, `field "gpu.memory": "80 GW" is not a bytes value; ${memory}`],
    [{ gpu: { memoryBandwidth: "-3 TB/s" } }, 'field "gpu.memoryBandwidth": "-3 TB/s" is negative; give a GPU\'s memory bandwidth from 100 MB/s to 100 TB/s, like 3350 GB/s'],
    [{ gpu: { peak: { fp8: "0" } } }, 'field "gpu.peak.fp8": "0" must be above zero; give a dense peak per GPU from 1 GFLOP/s to 100 PFLOP/s, like 989 TFLOP/s, or null for a precision the GPU lacks'],
    [{ gpu: { peak: { bf16: "989" } } }, 'field "gpu.peak.bf16": "989" has no unit; give a dense peak per GPU from 1 GFLOP/s to 100 PFLOP/s, like 989 TFLOP/s, or null for a precision the GPU lacks'],
    [{ gpu: { reserve: "-1 GiB" } }, 'field "gpu.reserve": "-1 GiB" is negative; give the memory reserved per GPU from 0 to below gpu.memory, like 2 GiB'],
    [{ node: { link: { bandwidth: "450" } } }, 'field "node.link.bandwidth": "450" has no unit; give a GPU\'s in-node link bandwidth each way from 500 MB/s to 100 TB/s, like 450 GB/s'],
    [{ network: { bandwidth: "400" } }, 'field "network.bandwidth": "400" has no unit; give a GPU\'s network bandwidth from 12.5 MB/s to 200 GB/s, like 400 Gb/s'],
    [{ network: { latency: "5" } }, `field "network.latency": "5" has no unit; ${latency}`],
    [{ network: { latency: "-5 us" } }, `field "network.latency": "-5 us" is negative; ${latency}`],
  ])("%j", (over, message) => {
    expect(refused(over)).toBe(`mine.json: ${message}`);
  });

  it("a latency or a reserve of 0 is 0, with a unit or without", () => {
    const merged = resolveExtends({ name: "mine", extends: "dgx-h100", network: { latency: "0" }, node: { link: { latency: "0 us" } }, gpu: { reserve: "0" } }, rawHardware, "mine.json");
    const r = merged.ok ? parseHardwareFile(merged.value, "mine.json") : merged;
    expect(r.ok && [r.value.inter.latency, r.value.intra.latency, r.value.reserve]).toEqual([0, 0, 0]);
  });
});

describe("numbers zod bounds, in words with the value (they were zod's own: \"Too small: expected number to be >0\")", () => {
  it.each([
    [{ gpu: { memoryBandwidthEfficiency: 0 } }, 'field "gpu.memoryBandwidthEfficiency": 0 must be above zero'],
    [{ gpu: { fragmentation: -0.1 } }, 'field "gpu.fragmentation": -0.1 is negative; it is at least 0'],
    [{ network: { collectiveEfficiency: 2 } }, 'field "network.collectiveEfficiency": 2 is above 1, the most it may be'],
    [{ gpu: { fragmentation: 1 } }, 'field "gpu.fragmentation": 1 must be below 1'],
    [{ run: { pue: "1.1" } }, 'field "run.pue": "1.1" is text; write the number without quotes, like 1.1'],
    [{ run: { failuresPerGpuHour: "x" } }, 'field "run.failuresPerGpuHour": "x" is not a number'],
    // (lists: zod's "Too small: expected array to have >=1 items")
    [{ gpu: { matmulEfficiency: { source: "s", points: [] } } }, 'field "gpu.matmulEfficiency.points": [] has 0 items; give at least 1 item'],
    [{ gpu: { matmulEfficiency: { source: "s", points: [[1e9]] } } }, 'field "gpu.matmulEfficiency.points[0]": [1000000000] has 1 item; give at least 2 items'],
    [{ gpu: { matmulEfficiency: { source: "s", points: [[1e9, 0.5, 3]] } } }, 'field "gpu.matmulEfficiency.points[0]": [1000000000,0.5,3] has 3 items; give at most 2 items'],
    [{ run: { failuresPerGpuHour: Infinity } }, 'field "run.failuresPerGpuHour": a number past a double\'s range (1e400 reads as Infinity) is out of range'],
  ])("%j", (over, message) => {
    expect(refused(over)).toBe(`mine.json: ${message}`);
  });
});

describe("gpu.powerLimit or gpu.ratedPower alone", () => {
  it("a value that does not read is said before the missing partner (QA: \"0\" alone was told to add gpu.ratedPower)", () => {
    expect(refused({ gpu: { powerLimit: { value: "0", source: "t" } } })).toBe('mine.json: field "gpu.powerLimit": "0" must be above zero; give a GPU\'s board power from 10 W to 5 kW, like 700 W');
    expect(refused({ gpu: { powerLimit: { value: "500 W", source: "t" } } })).toMatch(/^mine\.json: field "gpu\.powerLimit" needs "gpu\.ratedPower" beside it/);
  });
});
