import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../tmp-dirs.js";
import { JsonLines, createRunDir, safeName, timestamp, writeFileAtomic, writeJsonAtomic } from "../../executor/run-dir.js";

const tmp = () => tempDir("paraplan-rundir-");

describe("run directory", () => {
  it("names runs <timestamp>-<model> and never reuses a directory", () => {
    const root = tmp();
    const now = new Date(2026, 10, 27, 18, 0, 5);
    expect(timestamp(now)).toBe("20261127-180005");
    const a = createRunDir({ root, model: "tiny", now });
    const b = createRunDir({ root, model: "tiny", now });
    const c = createRunDir({ root, model: "tiny", now, suffix: "-node1" });
    expect(a).toBe(join(root, "20261127-180005-tiny"));
    expect(b).toBe(join(root, "20261127-180005-tiny-2"));
    expect(c).toBe(join(root, "20261127-180005-tiny-node1"));
    expect(safeName("my model/v2")).toBe("my_model_v2");
    expect(safeName("..")).toBe("_");
  });

  it("uses an exact --run-dir as given", () => {
    const dir = join(tmp(), "a", "b");
    expect(createRunDir({ exact: dir, model: "x" })).toBe(dir);
    // one that holds a run is refused; with several nodes sharing it, saying each needs its own
    writeFileSync(join(dir, "launch.json"), "{}");
    expect(() => createRunDir({ exact: dir, model: "x" })).toThrow(/already holds a run \(launch\.json\); pass a new directory or remove that one$/);
    expect(() => createRunDir({ exact: dir, model: "x", suffix: "-node1" })).toThrow(/each node of a run needs a directory of its own$/);
  });

  it("writes files atomically: the whole new content, no temp file left", () => {
    const dir = tmp();
    const path = join(dir, "summary.json");
    writeFileSync(path, "old");
    writeJsonAtomic(path, { a: 1 });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ a: 1 });
    writeFileAtomic(path, "x".repeat(1 << 20));
    expect(readFileSync(path, "utf8").length).toBe(1 << 20);
    expect(readdirSync(dir)).toEqual(["summary.json"]);
  });

  it("leaves the old file when the write fails", () => {
    const dir = tmp();
    const path = join(dir, "plan.json");
    writeFileSync(path, "old");
    expect(() => writeJsonAtomic(path, { big: 1n })).toThrow(); // BigInt cannot be serialised
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["plan.json"]);
  });

  it("appends metrics one whole line at a time", () => {
    const path = join(tmp(), "metrics.jsonl");
    const m = new JsonLines(path);
    m.append({ step: 1, loss: 5.5 });
    expect(readFileSync(path, "utf8")).toBe('{"step":1,"loss":5.5}\n'); // on disk before close
    m.append({ step: 2, loss: 5.4 });
    m.close();
    const again = new JsonLines(path);
    again.append({ step: 3, loss: 5.3 });
    again.close();
    expect(readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);
    expect(() => m.append({})).toThrow(/closed/);
  });
});
