import { describe, expect, it } from "vitest";
import { EVENT_PREFIX, LineSplitter, parseLine, toEvent } from "../../executor/events.js";

describe("worker events", () => {
  it("parses every event kind of PROTOCOL.md", () => {
    expect(parseLine(`${EVENT_PREFIX}{"event":"start","world":8,"mesh":{"pp":2,"dp":2,"tp":2},"torch":"2.13.0"}`)).toEqual({
      type: "event",
      event: { event: "start", world: 8, mesh: { pp: 2, dp: 2, tp: 2 }, torch: "2.13.0" },
    });
    expect(parseLine(`${EVENT_PREFIX}{"event":"step","step":1,"loss":5.54,"stepTime":0.12,"tokensPerSecond":2133.0}`)).toEqual({
      type: "event",
      event: { event: "step", step: 1, loss: 5.54, stepTime: 0.12, tokensPerSecond: 2133 },
    });
    const summary = parseLine(
      `${EVENT_PREFIX}{"event":"summary","measured":{"stepTime":0.1,"tokensPerSecond":2560,"peakMemory":1000,"flopsPerStep":3.5e8,"loss":[5.5,5.4],"comms":{"all_reduce":{"count":12,"bytes":123},"weird":"x"},"mfu":null,"peakMemoryRank":1}}`,
    );
    expect(summary).toEqual({
      type: "event",
      event: {
        event: "summary",
        measured: {
          stepTime: 0.1,
          tokensPerSecond: 2560,
          peakMemory: 1000,
          flopsPerStep: 3.5e8,
          loss: [5.5, 5.4],
          comms: { all_reduce: { count: 12, bytes: 123 } },
          extra: { peakMemoryRank: 1 },
        },
      },
    });
    expect(parseLine(`${EVENT_PREFIX}{"event":"error","rank":3,"kind":"oom","message":"CUDA out of memory"}`)).toEqual({
      type: "event",
      event: { event: "error", rank: 3, kind: "oom", message: "CUDA out of memory" },
    });
  });

  it("finds the prefix after a log prefix, and leaves other lines as text", () => {
    const p = parseLine(`[default1]:${EVENT_PREFIX}{"event":"error","rank":1,"kind":"exception","message":"boom"}`);
    expect(p.type).toBe("event");
    expect(parseLine("W1127 some torch warning")).toEqual({ type: "text", line: "W1127 some torch warning" });
  });

  it("reports malformed or unknown events instead of throwing", () => {
    expect(parseLine(`${EVENT_PREFIX}{not json`).type).toBe("bad");
    expect(parseLine(`${EVENT_PREFIX}{"event":"dance"}`)).toMatchObject({ type: "bad", why: 'unknown event "dance"' });
    expect(parseLine(`${EVENT_PREFIX}{"event":"step","loss":1}`).type).toBe("bad");
    expect(toEvent([1, 2])).toBe("not a JSON object");
  });

  it("defaults the optional fields of an error and a summary", () => {
    expect(toEvent({ event: "error" })).toEqual({ event: "error", rank: null, kind: "exception", message: '""' });
    expect(toEvent({ event: "summary", measured: { stepTime: 1 } })).toMatchObject({
      measured: { stepTime: 1, peakMemory: null, flopsPerStep: null, loss: [], comms: {} },
    });
  });

  it("splits a stream into lines across chunk boundaries, multi-byte characters included", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const text = Buffer.from("a1\r\nloss → 5\npartial", "utf8");
    const arrow = text.indexOf(Buffer.from("→"));
    s.push(text.subarray(0, arrow + 1)); // cut inside the 3-byte arrow
    s.push(text.subarray(arrow + 1));
    expect(lines).toEqual(["a1", "loss → 5"]);
    s.end();
    expect(lines).toEqual(["a1", "loss → 5", "partial"]);
  });
});
