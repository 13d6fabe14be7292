// The discrete-event engine: operations on streams, dependencies between them, and transfers
// that share link bandwidth. Pure and deterministic: no clock, events at equal times are taken in
// the order they were scheduled.
//
// An operation takes `pre` seconds, then (if it has work) crosses its links as a shared-bandwidth
// flow (links.ts), then `post` seconds. It starts when all its dependencies are met and its stream
// lets it:
//  - an ordered stream (a GPU's compute stream) runs its operations in the order they were added;
//  - a queued stream (a communication stream: NCCL kernels run one at a time, in issue order)
//    runs them one at a time in the order they became ready.
// A dependency is met when the operation it names ends, or, with a fraction f < 1 of a fixed-time
// operation, f of the way through it (a gradient bucket fills part-way through a backward).
import { EventHeap, f64, i32 } from "./heap.js";
import { SharedLinks } from "./links.js";

export interface OpSpec {
  stream: number;
  pre: number;
  work?: number;
  links?: readonly number[];
  post?: number;
}

interface Stream {
  ordered: boolean;
  queue: number[];
  head: number;
  busy: boolean;
  last: number;
}

export interface EngineResult {
  start: Float64Array;
  end: Float64Array;
  ready: Float64Array;
  /** The operation whose end (or partial progress) made this one start; −1 if none. */
  binder: Int32Array;
  /** Time the last operation ends. */
  makespan: number;
}

const END = 0;
const FLOW = 1;
const PARTIAL = 2;

export class Engine {
  private streams: Stream[] = [];
  // Per operation, in flat arrays (a step has tens of thousands of operations).
  private opStream = i32();
  private opPre = f64();
  private opWork = f64();
  private opPost = f64();
  private opLinks: Array<readonly number[] | null> = [];
  private pending = i32();
  // Dependency edges as linked lists in insertion order: on → op (whole), or on → op at a
  // fraction of on's fixed time (partial).
  private head = i32();
  private tail = i32();
  private edgeTo = i32();
  private edgeNext = i32();
  private edgeFraction = f64();

  addStream(ordered: boolean): number {
    this.streams.push({ ordered, queue: [], head: 0, busy: false, last: -1 });
    return this.streams.length - 1;
  }

  get opCount(): number {
    return this.opStream.length;
  }

  /** Add an operation; on an ordered stream it follows the stream's previous operation. */
  add(spec: OpSpec): number {
    const id = this.opStream.length;
    this.opStream.push(spec.stream);
    this.opPre.push(spec.pre);
    this.opWork.push(spec.work ?? 0);
    this.opPost.push(spec.post ?? 0);
    this.opLinks.push(spec.links ?? null);
    this.pending.push(0);
    this.head.push(-1);
    this.tail.push(-1);
    const s = this.streams[spec.stream]!;
    if (s.ordered && s.last >= 0) this.dep(id, s.last);
    s.last = id;
    return id;
  }

  /** `op` may start only once `on` has ended (fraction 1) or is `fraction` of the way through. */
  dep(op: number, on: number, fraction = 1): void {
    this.pending.data[op]!++;
    if (fraction < 1 && this.opWork.data[on]! > 0) throw new Error("a partial dependency needs a fixed-time operation");
    const e = this.edgeTo.length;
    this.edgeTo.push(op);
    this.edgeNext.push(-1);
    this.edgeFraction.push(Math.min(1, fraction));
    const tail = this.tail.data;
    if (tail[on]! < 0) this.head.data[on] = e;
    else this.edgeNext.data[tail[on]!] = e;
    tail[on] = e;
  }

  run(): EngineResult {
    const n = this.opStream.length;
    const opLinks = this.opLinks;
    const opStream = this.opStream.view();
    const head = this.head.view();
    const edgeTo = this.edgeTo.view();
    const edgeNext = this.edgeNext.view();
    const opPre = this.opPre.view();
    const opWork = this.opWork.view();
    const opPost = this.opPost.view();
    const edgeFraction = this.edgeFraction.view();
    const start = new Float64Array(n).fill(NaN);
    const end = new Float64Array(n).fill(NaN);
    const ready = new Float64Array(n).fill(NaN);
    const binder = new Int32Array(n).fill(-1);
    const pending = Int32Array.from(this.pending.view());
    const heap = new EventHeap();
    const links = new SharedLinks();
    const streams = this.streams.map((s) => ({ ordered: s.ordered, queue: [] as number[], head: 0, busy: false }));
    let now = 0;
    let done = 0;

    const begin = (op: number, by: number) => {
      const st = streams[opStream[op]!]!;
      st.busy = true;
      start[op] = now;
      if (now > ready[op]!) binder[op] = by;
      const fixed = opPre[op]! + opPost[op]!;
      for (let e = head[op]!; e >= 0; e = edgeNext[e]!)
        if (edgeFraction[e]! < 1) heap.push(now + edgeFraction[e]! * fixed, PARTIAL, edgeTo[e]! * n + op);
      if (opWork[op]! > 0) heap.push(now + opPre[op]!, FLOW, op);
      else heap.push(now + fixed, END, op);
    };
    const becomeReady = (op: number, by: number) => {
      ready[op] = now;
      binder[op] = by;
      const st = streams[opStream[op]!]!;
      if (st.ordered) begin(op, by);
      else {
        st.queue.push(op);
        if (!st.busy) begin(st.queue[st.head++]!, by);
      }
    };
    const release = (op: number, by: number) => {
      if (--pending[op]! === 0) becomeReady(op, by);
    };
    const finish = (op: number) => {
      end[op] = now;
      done++;
      const st = streams[opStream[op]!]!;
      st.busy = false;
      for (let e = head[op]!; e >= 0; e = edgeNext[e]!) if (edgeFraction[e]! >= 1) release(edgeTo[e]!, op);
      if (!st.ordered && !st.busy && st.head < st.queue.length) begin(st.queue[st.head++]!, op);
    };
    const flowDone = (op: number) => {
      if (opPost[op]! > 0) heap.push(now + opPost[op]!, END, op);
      else finish(op);
    };

    for (let op = 0; op < n; op++) if (pending[op] === 0 && Number.isNaN(ready[op]!)) becomeReady(op, -1);
    for (;;) {
      const tHeap = heap.peekTime();
      const tFlow = links.nextFinish();
      if (tHeap === Infinity && tFlow === Infinity) break;
      if (tFlow < tHeap) {
        now = tFlow;
        for (const op of links.finishAt(now)) flowDone(op);
        continue;
      }
      const [t, kind, x] = heap.pop();
      now = t;
      if (kind === END) finish(x);
      else if (kind === FLOW) links.add(x, opWork[x]!, opLinks[x] ?? [], now);
      else release(Math.floor(x / n), x % n); // PARTIAL
    }
    if (done !== n) throw new Error(`simulation deadlocked: ${n - done} of ${n} operations never ran`);
    let makespan = 0;
    for (let i = 0; i < n; i++) makespan = Math.max(makespan, end[i]!);
    return { start, end, ready, binder, makespan };
  }
}
