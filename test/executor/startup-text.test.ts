// Before the first step, in words (src/format/startup-text.ts): the ranks by their last phase, a
// multi-node run waiting for its other nodes, and the start-up failure.
import { describe, expect, it } from "vitest";
import { phaseWords, rankList, rendezvousLine, spanList, startupFailure, waitingLine } from "../../src/format/startup-text.js";

describe("start-up notices and failure", () => {
  it("lists ranks compactly", () => {
    expect(rankList([2])).toBe("rank 2");
    expect(rankList([3, 0, 1])).toBe("ranks 0, 1, 3");
    expect(rankList([0, 1, 2, 3, 5, 6, 7])).toBe("ranks 0–3, 5, 6, 7".replace("5, 6, 7", "5–7"));
    expect(rankList([4, 4])).toBe("rank 4");
    expect([spanList([3]), spanList([1, 0, 3]), spanList(Array.from({ length: 1997 }, (_, i) => i + 3))]).toEqual(["3", "0, 1, 3", "3–1999"]);
  });

  it("names the ranks furthest behind first", () => {
    expect(phaseWords({ phases: { 0: "built", 1: "built", 2: null, 3: "joined" }, unnamed: 0 })).toBe(
      "rank 2 never started; rank 3 joined the process group but never finished building the model; ranks 0, 1 built the model",
    );
    // Several nodes: c10d numbers ranks by arrival, so one that never reported has no number.
    expect(phaseWords({ phases: { 8: "built" }, unnamed: 7 })).toBe("7 other ranks of this node never started; rank 8 built the model");
  });

  it("a node alone at the rendezvous says what it waits for", () => {
    const w = { waitedMs: 60_000, phases: {}, unnamed: 8, started: false };
    const c = { nnodes: 2, endpoint: { host: "head", port: 29500 }, deadline: 1200 };
    expect(rendezvousLine({ ...c, nodeRank: 1, rdzvId: "job7" })).toBe(
      "node 1 of 2: waiting for all 2 nodes to join the rendezvous at head:29500 (id job7); start paraplan execute on each with the same --nnodes, --rdzv-endpoint and --rdzv-id; every rank stops at 20.0 min without one (--startup-timeout)",
    );
    expect(waitingLine(w, c)).toBe(
      "waiting 60 s for all 2 nodes to join the rendezvous at head:29500 (start paraplan execute with this --rdzv-endpoint on each); every rank stops at 20.0 min without one (--startup-timeout)",
    );
    // Without a deadline (none known), the notice is the wait alone.
    expect(waitingLine(w, { nnodes: 2, endpoint: c.endpoint })).toBe("waiting 60 s for all 2 nodes to join the rendezvous at head:29500 (start paraplan execute with this --rdzv-endpoint on each)");
    // The port seen free (or a torch rendezvous's) on this machine before the launch: the nodes are the cause.
    const alone = { waited: 1200, phases: {}, unnamed: 8, started: false };
    expect(startupFailure(alone, { nnodes: 2, endpoint: { host: "head", port: 29500 }, portChecked: true }, "0 steps of metrics kept in runs/x")).toBe(
      "no rank of this node started in 20.0 min: the 2 nodes never all joined the rendezvous at head:29500; stopped, 0 steps of metrics kept in runs/x (log: worker.log)",
    );
    // Not checked (the endpoint on another machine): a program there that is not a torch store holds torchrun just the same.
    for (const portChecked of [false, undefined])
      expect(startupFailure(alone, { nnodes: 2, endpoint: { host: "head", port: 29500 }, portChecked }, "kept")).toBe(
        "no rank of this node started in 20.0 min: the 2 nodes never all joined the rendezvous at head:29500, or port 29500 on head is held by a program that is not a torch rendezvous; stopped, kept (log: worker.log)",
      );
  });

  it("every rank built, the first step never ends: a collective, or a slow first step", () => {
    const f = { waited: 1200, phases: { 0: "built" as const, 1: "built" as const }, unnamed: 0, started: true };
    expect(startupFailure(f, { nnodes: 1 }, "kept")).toMatch(/^no step after 20\.0 min: every rank built the model but the first step never ended \(a collective that never completes, or a first step slower than that: --startup-timeout to wait longer\)/);
  });

  it("rank 0 started, another rank never built: named by its phase, not 'every rank built' (rank 0's start event is its own)", () => {
    const f = { waited: 15, phases: { 0: "built" as const, 1: "joined" as const }, unnamed: 0, started: true };
    expect(startupFailure(f, { nnodes: 1 }, "kept")).toBe(
      "no step after 15 s: rank 1 joined the process group but never finished building the model; rank 0 built the model: a rank is stuck before its first step (--startup-timeout to wait longer if it is only slow); stopped every rank, kept (log: worker.log)",
    );
    expect(waitingLine({ ...f, waitedMs: 7500 }, { nnodes: 1 })).toBe("waiting 7.5 s for the first step: rank 1 joined the process group but never finished building the model; rank 0 built the model");
    // A rank of this node not heard from at all is not "built" either.
    expect(startupFailure({ ...f, phases: { 0: "built" as const }, unnamed: 1 }, { nnodes: 2 }, "kept")).toMatch(/^no step after 15 s: 1 other rank of this node never started; rank 0 built the model: a rank is stuck/);
    // Every rank built: the first step is what never ended; of several nodes, this node's ranks only are known.
    const built = { ...f, phases: { 4: "built" as const, 5: "built" as const }, started: false };
    expect(startupFailure(built, { nnodes: 2 }, "kept")).toMatch(/^no step after 15 s: every rank of this node built the model but the first step never ended/);
    expect(waitingLine({ ...built, waitedMs: 60_000 }, { nnodes: 1 })).toBe("waiting 60 s for the first step: every rank built the model; the first step runs (compilation and warm-up included)");
  });
});
