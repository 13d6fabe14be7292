// The profiler's event lines, the message sizes, the CPU threads per rank and the progress bar.
import { describe, expect, it } from "vitest";
import { collect, emptyMeasurements, parseProfileLine } from "../../src/profile/events.js";
import { messageSizes } from "../../src/profile/measure.js";
import { ProgressBar } from "../../src/profile/progress.js";

describe("profiler events", () => {
  it("are read from their prefix, anything else is not an event", () => {
    expect(parseProfileLine('PARAPLAN_PROFILE {"event": "done"}')).toEqual({ event: "done" });
    expect(parseProfileLine('[rank0]: PARAPLAN_PROFILE {"event": "done"}')).toEqual({ event: "done" });
    expect(parseProfileLine("Traceback (most recent call last):")).toBeNull();
    expect(parseProfileLine("PARAPLAN_PROFILE {not json")).toBeNull();
    expect(parseProfileLine('PARAPLAN_PROFILE {"x": 1}')).toBeNull();
  });

  it("become measurements; non-positive figures are dropped", () => {
    const m = emptyMeasurements();
    const lines = [
      '{"event": "versions", "torch": "2.13.0", "cuda": null}',
      '{"event": "matmul", "dtype": "fp32", "m": 256, "n": 128, "k": 64, "flops": 4194304, "seconds": 0.0001}',
      '{"event": "matmul", "dtype": "fp32", "m": 1, "n": 1, "k": 1, "flops": 2, "seconds": 0}',
      '{"event": "copy", "bytes": 134217728, "seconds": 0.01}',
      '{"event": "kernel", "name": "gelu", "bytes": 8388608, "seconds": 0.001}',
      '{"event": "attention", "batch": 2, "heads": 4, "seq": 256, "headDim": 32, "flops": 201326592, "seconds": 0.01}',
      '{"event": "world", "world": 2}',
      '{"event": "collective", "op": "send_recv", "ranks": 2, "pair": [0, 1], "bytes": 8192, "seconds": 5e-5}',
      '{"event": "skipped", "phase": "matmul", "label": "fp8 16x16x16", "reason": "unsupported"}',
    ];
    for (const l of lines) collect(m, parseProfileLine(`PARAPLAN_PROFILE ${l}`)!);
    expect(m.versions?.torch).toBe("2.13.0");
    expect(m.matmul).toHaveLength(1);
    expect(m.copy).toEqual([{ name: "copy", bytes: 134217728, seconds: 0.01 }]);
    expect(m.kernels[0]!.name).toBe("gelu");
    expect(m.attention).toHaveLength(1);
    expect(m.world).toBe(2);
    expect(m.collectives[0]!.pair).toEqual([0, 1]);
    expect(m.skipped[0]!.reason).toBe("unsupported");
  });
});

describe("message sizes", () => {
  it("8 KB to 1 GB on GPUs (×4 steps), 8 KB to 32 MB over gloo; --quick takes a few", () => {
    expect(messageSizes("cuda", false)).toEqual([8192, 32768, 131072, 524288, 2097152, 8388608, 33554432, 134217728, 536870912, 1073741824]);
    expect(messageSizes("cuda", true)).toHaveLength(4);
    expect(messageSizes("cpu", false).at(-1)).toBe(32 * 2 ** 20);
    expect(messageSizes("cpu", true)).toEqual([8192, 131072, 2097152, 8388608]);
  });
});

describe("progress bar", () => {
  it("draws in place on a terminal and clears at the end; nothing without one", () => {
    const writes: string[] = [];
    const bar = new ProgressBar({ write: (t) => writes.push(t), columns: 80 });
    bar.update("matmul", 3, 12, "bf16 2048x4096x4096");
    bar.update("matmul", 12, 12, "done");
    bar.clear();
    expect(writes[0]).toMatch(/^\r\x1b\[2K\[1\/4\] matmul +\[######-+\] +3\/12 bf16 2048x4096x4096$/);
    expect(writes[1]).toMatch(/\[#{24}\] 12\/12/);
    expect(writes.at(-1)).toBe("\r\x1b[2K");
    expect(writes.every((w) => w.replace(/\r\x1b\[2K/, "").length <= 79)).toBe(true);
    const silent = new ProgressBar(null);
    silent.update("matmul", 1, 2, "x");
    silent.clear();
  });
});
