import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import type { Plan } from "../../planner/index.js";
import { loadModel } from "../../src/load.js";
import { allNodeLines, chooseRendezvous, commandLine, freePort, shellQuote, torchrunArgs, type NodeLaunch } from "../../executor/launch.js";
import { isThisMachine, isTorchLauncher, portHolder, unresolvable } from "../../executor/port-holder.js";
import { buildSpec, faultInjectionFromEnv } from "../../executor/spec.js";
import { exitFor } from "../../src/errors.js";
import { planFromJson } from "../../src/plan-file.js";

const catchOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

const plan: Plan = { tp: 2, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 2, recompute: "selective", sequenceParallel: true, schedule: "1f1b" };

describe("launch spec", () => {
  it("has the fields of PROTOCOL.md, the padded vocabulary and no file-only model fields", () => {
    const model = loadModel("tiny");
    const spec = buildSpec({ runDir: "/r", device: "cpu", model, plan: { ...plan, mfu: 0.5 } as Plan, globalBatch: 8, seqLen: model.defaultSeqLen, precision: "bf16", steps: 5 });
    expect(spec).toEqual({
      version: 1,
      runDir: "/r",
      device: "cpu",
      model: {
        name: "tiny", layers: 4, hidden: 64, heads: 4, kvHeads: 4, ffnHidden: 256, vocab: 256, seqLen: 32,
        mlp: "gelu", positional: "learned", tiedEmbeddings: true, dropout: true,
      },
      plan,
      // 256 rounded up to a multiple of 128·tp = 256
      training: { globalBatch: 8, seqLen: 32, precision: "bf16", steps: 5, seed: 1234, lr: 0.001, vocabPadded: 256 },
      // eager on CPU ranks unless asked (PROTOCOL.md execution)
      execution: { compile: false },
    });
    const odd = buildSpec({ runDir: "/r", device: "cpu", model: { ...model, vocab: 300 }, plan, globalBatch: 8, seqLen: model.defaultSeqLen, precision: "bf16", steps: 1 });
    expect(odd.training.vocabPadded).toBe(512);
    const faulty = buildSpec({ runDir: "/r", device: "cpu", model, plan, globalBatch: 8, seqLen: model.defaultSeqLen, precision: "bf16", steps: 1, faultInjection: { rank: 1, step: 2 } });
    expect(faulty.faultInjection).toEqual({ rank: 1, step: 2 });
    expect(buildSpec({ runDir: "/r", device: "cpu", model, plan, globalBatch: 8, seqLen: model.defaultSeqLen, precision: "bf16", steps: 1, startupTimeout: 90 }).startupTimeout).toBe(90);
  });

  it("takes the test-only fault injection from PARAPLAN_FAULT_INJECTION", () => {
    expect(faultInjectionFromEnv({})).toBeUndefined();
    expect(faultInjectionFromEnv({ PARAPLAN_FAULT_INJECTION: '{"rank":1,"step":2}' })).toEqual({ rank: 1, step: 2 });
    expect(() => faultInjectionFromEnv({ PARAPLAN_FAULT_INJECTION: "rank 1" })).toThrow(/not JSON/);
    // bad input (exit 2), not an internal error (exit 70, "a bug in paraplan")
    expect(exitFor(catchOf(() => faultInjectionFromEnv({ PARAPLAN_FAULT_INJECTION: "[1]" })))?.status).toBe(2);
  });
});

const node: NodeLaunch = {
  python: "/venv/bin/python",
  root: "/pkg",
  specPath: "/runs/a b/launch.json",
  device: "cpu",
  nnodes: 2,
  nodeRank: 1,
  perNode: 2,
  endpoint: { host: "10.0.0.1", port: 29400 },
  rdzvId: "paraplan",
};

describe("torchrun command", () => {
  it("runs the worker module under c10d rendezvous", () => {
    expect(torchrunArgs(node)).toEqual([
      "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "2", "--node-rank", "1",
      "--rdzv-backend", "c10d", "--rdzv-endpoint", "10.0.0.1:29400", "--rdzv-id", "paraplan", "--max-restarts", "0",
      "-m", "executor.worker", "--spec", "/runs/a b/launch.json",
    ]);
    // A join timeout (the start-up deadline's, executor/prepare.ts) is torchrun's c10d join_timeout.
    expect(torchrunArgs({ ...node, joinTimeout: 1230 }).join(" ")).toContain("--rdzv-id paraplan --rdzv-conf join_timeout=1230 --max-restarts 0 ");
  });

  it("prints one shell line per node with the environment it needs", () => {
    const lines = allNodeLines(node, { OMP_NUM_THREADS: "1" });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      "PYTHONPATH=/pkg PYTHONUNBUFFERED=1 /venv/bin/python -m torch.distributed.run --nnodes 2 --nproc-per-node 2 --node-rank 0 " +
        "--rdzv-backend c10d --rdzv-endpoint 10.0.0.1:29400 --rdzv-id paraplan --max-restarts 0 -m executor.worker --spec '/runs/a b/launch.json'",
    );
    expect(lines[1]).toContain("--node-rank 1 ");
    expect(commandLine(node, { PYTHONPATH: "/x" })).toMatch(/^PYTHONPATH=\/pkg:\/x PYTHONUNBUFFERED=1 OMP_NUM_THREADS=\d+ /);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("rendezvous", () => {
  it("binds a single node to 127.0.0.1, replacing a busy port by a free one", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen({ host: "127.0.0.1", port: 0 }, r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await chooseRendezvous({ host: "example.org", port }, 1);
      expect(r.endpoint.host).toBe("127.0.0.1");
      expect(r.endpoint.port).not.toBe(port);
      expect(r.replacedPort).toBe(port);
    } finally {
      busy.close();
    }
    const free = await freePort();
    expect(await chooseRendezvous({ host: "127.0.0.1", port: free }, 1)).toEqual({ endpoint: { host: "127.0.0.1", port: free }, replacedPort: null, portChecked: true });
  });

  it("keeps the endpoint of a multi-node run as given", async () => {
    // 10.0.0.1 is no interface of this machine (unless it is: then it is checked like 127.0.0.1 below).
    const remote = !(await isThisMachine("10.0.0.1"));
    expect(await chooseRendezvous({ host: "10.0.0.1", port: 29400 }, 2)).toEqual({ endpoint: { host: "10.0.0.1", port: 29400 }, replacedPort: null, portChecked: !remote });
    const free = await freePort();
    expect(await chooseRendezvous({ host: "127.0.0.1", port: free }, 2)).toEqual({ endpoint: { host: "127.0.0.1", port: free }, replacedPort: null, portChecked: true });
  });

  // A host that does not exist held every rank at torchrun's rendezvous until the start-up
  // deadline (20 min by default), torchrun only logging "Name or service not known". ".invalid"
  // never resolves (RFC 6761 §6.4).
  it("refuses a multi-node endpoint whose host does not resolve, before the launch", async () => {
    const e = await chooseRendezvous({ host: "no-such-host.invalid", port: 29400 }, 2).then(() => null, (x: unknown) => x);
    expect(exitFor(e)?.status).toBe(2);
    expect((e as Error).message).toMatch(/^--rdzv-endpoint: host "no-such-host\.invalid" does not resolve on this node \(ENOTFOUND\)/);
    // An address is never looked up; --print-launch checks nothing.
    expect(await unresolvable("10.0.0.1")).toBe(false);
    expect(await unresolvable("[::1]")).toBe(false);
    expect(await chooseRendezvous({ host: "no-such-host.invalid", port: 29400 }, 2, { checkPort: false })).toMatchObject({ portChecked: false });
  });

  // QA: a Python socket on the rendezvous port of node 0 read as "the 2 nodes never all joined
  // the rendezvous" after --startup-timeout. torchrun hosts the store wherever the endpoint names
  // this machine, so a program there that is not a torch launcher is refused before the launch.
  it("refuses a multi-node port on this machine held by another program, naming it", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen({ host: "127.0.0.1", port: 0 }, r));
    const port = (busy.address() as { port: number }).port;
    try {
      // The holder is this test's own process (node, not torchrun).
      expect(portHolder(port)).toMatchObject({ pid: process.pid, torch: false });
      for (const host of ["127.0.0.1", "localhost"]) {
        const e = await chooseRendezvous({ host, port }, 2).then(() => null, (x: unknown) => x);
        expect(exitFor(e)?.status).toBe(2);
        expect((e as Error).message).toMatch(new RegExp(`^port ${port} on ${host} is held by another program \\(pid ${process.pid}: \\S*node\\b[^\\n]*\\), not a torch rendezvous; torchrun on this node would host the rendezvous there: stop that program, or name a free port in --rdzv-endpoint on every node$`));
      }
      // --print-launch only prints the commands, for later: nothing is checked.
      expect(await chooseRendezvous({ host: "127.0.0.1", port }, 2, { checkPort: false })).toEqual({ endpoint: { host: "127.0.0.1", port }, replacedPort: null, portChecked: false });
    } finally {
      busy.close();
    }
    expect(portHolder(port)).toBeNull();
  });

  it("tells a torch launcher's command line from another program's", () => {
    expect(isTorchLauncher(["/venv/bin/python", "-m", "torch.distributed.run", "--nnodes", "2"])).toBe(true);
    expect(isTorchLauncher(["/venv/bin/python", "/venv/bin/torchrun", "--nnodes", "2"])).toBe(true);
    expect(isTorchLauncher(["python3", "-m", "http.server", "29500"])).toBe(false);
    // A rank (python -m executor.worker) hosts no store; nor does a script merely named after torch.
    expect(isTorchLauncher(["python", "-m", "executor.worker", "--spec", "torch.distributed.run"])).toBe(false);
    expect(isTorchLauncher(["python", "my_torchrun.py"])).toBe(false);
  });
});

describe("a launch spec given to --plan", () => {
  // A launch.json of another spec version was read as version 1's plan (no check on this side,
  // none on the worker's either): the version this paraplan writes is the one it reads.
  const model = loadModel("tiny");
  const spec = buildSpec({ runDir: "/r", device: "cpu", model, plan, globalBatch: 8, seqLen: model.defaultSeqLen, precision: "bf16", steps: 5 });
  it("of this version gives its plan; of another is one line naming the file and both versions", () => {
    expect(planFromJson(spec, "launch.json")).toMatchObject({ tp: 2, dp: 2, zero: 1, microBatch: 2 });
    const other = catchOf(() => planFromJson({ ...spec, version: 2 }, "old/launch.json"));
    expect(exitFor(other)?.status).toBe(2);
    expect((other as Error).message).toBe("--plan old/launch.json: a launch spec of version 2; this paraplan reads version 1 (executor/PROTOCOL.md): plan it again, or run it with the paraplan that wrote it");
  });
});
