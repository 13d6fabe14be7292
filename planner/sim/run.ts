// Playing an Engine's operations out (events.ts describes the rules): a clock, a heap of events,
// the flows on shared links, and per stream who runs. The readable reference of the engine: the
// simulations run wasm/engine.ts, the same rules in WebAssembly (wasm-run.ts), which
// test/sim/wasm-engine.test.ts holds to this one bit for bit (Engine.run(true) runs this one). A class with small methods rather than
// closures made per run: every run calls the same functions, which V8 compiles once and early
// (closures made anew each run changed the call targets the compiled code had assumed, and a
// few large functions waited long to be compiled: a CLI process simulates only some twenty steps).
import { type Arena, EventHeap } from "./heap.js";
import { SharedLinks } from "./links.js";
import type { WasmEngine } from "./wasm-run.js";

/** An engine's operations and dependencies, as run() reads them (events.ts Engine). */
export interface RunTables {
  n: number;
  routes: ReadonlyArray<readonly number[]>;
  streamOrdered: readonly boolean[];
  opStream: Int32Array;
  opPre: Float64Array;
  opWork: Float64Array;
  opPost: Float64Array;
  opRoute: Int32Array;
  pending: Int32Array;
  head: Int32Array;
  edgeTo: Int32Array;
  edgeNext: Int32Array;
  /** Edges and partial edges in use (the tables may be longer). */
  nEdges: number;
  nParts: number;
  partHead: Int32Array;
  partTo: Int32Array;
  partFrom: Int32Array;
  partNext: Int32Array;
  partFraction: Float64Array;
}

export interface EngineResult {
  start: Float64Array;
  end: Float64Array;
  ready: Float64Array;
  /** The operation whose end (or partial progress) made this one start; −1 if none. */
  binder: Int32Array;
  /** Time the last operation ends. */
  makespan: number;
  /** The WebAssembly engine that played it (wasm-run.ts), whose memory holds it until its next
   *  play: the ranking's summary makes its pass there (stage-sums.ts sumSummary). */
  wasm?: WasmEngine;
}

// Event kinds; the payload is an operation (END, FLOW) or a partial edge (PARTIAL).
const END = 0;
const FLOW = 1;
const PARTIAL = 2;

export class Run {
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly ready: Float64Array;
  private readonly binder: Int32Array;
  private readonly pending: Int32Array;
  private readonly heap: EventHeap;
  private readonly links: SharedLinks;
  // Queued streams: busy flag and a FIFO of ready operations as a linked list through queueNext.
  private readonly busy: Uint8Array;
  private readonly ordered: Uint8Array;
  private readonly queueHead: Int32Array;
  private readonly queueTail: Int32Array;
  private readonly queueNext: Int32Array;
  /** The simulated time, in a typed cell (a number field would start out as an integer). */
  private readonly clock = new Float64Array(1);
  private done = 0;

  /** The run's tables come from `arena`; so does its result when `shared` (valid until the
   *  arena's next run), else the result is new. */
  constructor(
    private readonly t: RunTables,
    arena: Arena,
    shared: boolean,
  ) {
    const n = t.n;
    const nStreams = t.streamOrdered.length;
    const f64 = (key: string) => (shared ? arena.f64(key, n).subarray(0, n) : new Float64Array(n));
    this.start = f64("run.start").fill(NaN);
    this.end = f64("run.end").fill(NaN);
    this.ready = f64("run.ready").fill(NaN);
    this.binder = (shared ? arena.i32("run.binder", n).subarray(0, n) : new Int32Array(n)).fill(-1);
    this.pending = arena.i32("run.pending", n);
    this.pending.set(t.pending.subarray(0, n));
    this.queueNext = arena.i32("run.queueNext", n);
    this.heap = new EventHeap(arena);
    this.links = new SharedLinks(t.routes, nStreams);
    this.busy = new Uint8Array(nStreams);
    this.ordered = Uint8Array.from(t.streamOrdered, (o) => (o ? 1 : 0));
    this.queueHead = new Int32Array(nStreams).fill(-1);
    this.queueTail = new Int32Array(nStreams).fill(-1);
  }

  play(): EngineResult {
    const t = this.t;
    this.seed(t.n, this.pending, this.ready);
    this.loop(this.heap, this.links, this.clock, t.opPost, t.opWork, t.opRoute, t.partTo, t.partFrom);
    if (this.done !== t.n) throw new Error(`simulation deadlocked: ${t.n - this.done} of ${t.n} operations never ran`);
    return { start: this.start, end: this.end, ready: this.ready, binder: this.binder, makespan: latest(this.end, t.n) };
  }

  // The loops below take what they read as arguments and end their method: V8 compiles a loop
  // in the middle of its first run (a step has tens of thousands of operations), when nothing
  // before or after the loop has run with type feedback, and such code fell back to the
  // interpreter on the next step and was compiled again, several times per process.

  /** Operations with no dependency become ready at time 0. */
  private seed(n: number, pending: Int32Array, ready: Float64Array): void {
    for (let op = 0; op < n; op++) if (pending[op] === 0 && Number.isNaN(ready[op]!)) this.becomeReady(op, -1);
  }

  /** Take the events in time order until none is left. */
  private loop(
    heap: EventHeap,
    links: SharedLinks,
    clock: Float64Array,
    opPost: Float64Array,
    opWork: Float64Array,
    opRoute: Int32Array,
    partTo: Int32Array,
    partFrom: Int32Array,
  ): void {
    for (;;) {
      const tHeap = heap.n > 0 ? heap.t[0]! : Infinity;
      const tFlow = links.next;
      if (tHeap === Infinity && tFlow === Infinity) break;
      if (tFlow < tHeap) {
        const now = (clock[0] = tFlow);
        const finished = links.finishAt(now);
        for (let i = 0; i < finished; i++) {
          const op = links.done[i]!;
          if (opPost[op]! > 0) heap.push(now + opPost[op]!, END, op);
          else this.finish(op);
        }
        continue;
      }
      const x = heap.pop();
      const now = (clock[0] = heap.time);
      const kind = heap.lastKind;
      if (kind === END) this.finish(x);
      else if (kind === FLOW) links.add(x, opWork[x]!, opRoute[x]!, now);
      else this.release(partTo[x]!, partFrom[x]!); // PARTIAL
    }
  }

  private begin(op: number, by: number): void {
    const { opStream, opPre, opPost, opWork, partHead, partNext, partFraction } = this.t;
    const now = this.clock[0]!;
    const heap = this.heap;
    this.busy[opStream[op]!] = 1;
    this.start[op] = now;
    if (now > this.ready[op]!) this.binder[op] = by;
    const fixed = opPre[op]! + opPost[op]!;
    for (let e = partHead[op]!; e >= 0; e = partNext[e]!) heap.push(now + partFraction[e]! * fixed, PARTIAL, e);
    if (opWork[op]! > 0) heap.push(now + opPre[op]!, FLOW, op);
    else heap.push(now + fixed, END, op);
  }

  private dequeue(s: number, by: number): void {
    const { queueHead, queueTail, queueNext } = this;
    const op = queueHead[s]!;
    queueHead[s] = queueNext[op]!;
    if (queueHead[s]! < 0) queueTail[s] = -1;
    this.begin(op, by);
  }

  private becomeReady(op: number, by: number): void {
    this.ready[op] = this.clock[0]!;
    this.binder[op] = by;
    const s = this.t.opStream[op]!;
    if (this.ordered[s] === 1) this.begin(op, by);
    else {
      const { queueHead, queueTail, queueNext } = this;
      queueNext[op] = -1;
      if (queueTail[s]! < 0) queueHead[s] = op;
      else queueNext[queueTail[s]!] = op;
      queueTail[s] = op;
      if (this.busy[s] === 0) this.dequeue(s, by);
    }
  }

  private release(op: number, by: number): void {
    if (--this.pending[op]! === 0) this.becomeReady(op, by);
  }

  private finish(op: number): void {
    const { opStream, head, edgeTo, edgeNext } = this.t;
    this.end[op] = this.clock[0]!;
    this.done++;
    const s = opStream[op]!;
    this.busy[s] = 0;
    for (let e = head[op]!; e >= 0; e = edgeNext[e]!) this.release(edgeTo[e]!, op);
    if (this.ordered[s] === 0 && this.busy[s] === 0 && this.queueHead[s]! >= 0) this.dequeue(s, op);
  }
}

/** Time the last of the first `n` operations ends. */
export function latest(end: Float64Array, n: number): number {
  let makespan = 0;
  for (let i = 0; i < n; i++) makespan = Math.max(makespan, end[i]!);
  return makespan;
}
