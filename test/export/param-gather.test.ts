// Megatron's --overlap-param-gather (off by default): the export writes it where the engine
// predicts the distributed optimizer's weight gather overlapped with the next forward, and
// `plan --from` reads its absence as a gather after the optimizer. Before, the export left it out
// and the read-back priced the file's run as if it were there.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir } from "./helpers.js";

afterAll(removeTemp);

describe("--overlap-param-gather, written and read back", () => {
  it("the export's ZeRO-1 plan reads back at its predicted step with the flag, slower without it", async () => {
    const dir = join(tempDir(), "pg");
    const ex = await cli(["export", "--format", "megatron", "--model", "llama3-70b", "--gpus", "64", "--out", dir]);
    expect(ex.code).toBe(0);
    const lines = ex.stdout.split("\n");
    expect(lines[0]).toMatch(/ZeRO-1/);
    const args = readFileSync(join(dir, "megatron-args.txt"), "utf8");
    expect(args).toContain("\n--overlap-param-gather\n");
    const predicted = Number(/predicted ([\d,]+) tokens\/s/.exec(lines[1]!)![1]!.replace(/,/g, ""));

    const read = async (file: string) => JSON.parse((await cli(["plan", "--model", "llama3-70b", "--gpus", "64", "--from", file, "--json", "--top", "1", "--simulate-top", "0"])).stdout);
    const withFlag = await read(join(dir, "megatron-args.txt"));
    expect(Math.round(withFlag.from.plan.tokensPerSecond)).toBe(predicted);

    const without = join(dir, "no-param-gather.txt");
    writeFileSync(without, args.replace("--overlap-param-gather\n", ""));
    const noFlag = await read(without);
    const text = await cli(["plan", "--model", "llama3-70b", "--gpus", "64", "--from", without, "--top", "1", "--simulate-top", "0"]);
    expect(text.stdout).toMatch(/^engine megatron-core \(megatron configuration; [^)]*weight gather after the optimizer\)$/m);
    expect(noFlag.from.plan.time.step).toBeGreaterThan(withFlag.from.plan.time.step);
    expect(noFlag.from.plan.time.dpComm).toBeGreaterThan(withFlag.from.plan.time.dpComm);
  });
});
