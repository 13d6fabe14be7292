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
//
// Everything per operation, per edge and per event lives in typed arrays (heap.ts): a step has
// tens of thousands of operations and no object is allocated per operation or event.
import { EventHeap, f64, i32 } from "./heap.js";
import { SharedLinks } from "./links.js";

export interface OpSpec {
  stream: number;
  pre: number;
  work?: number;
  links?: readonly number[];
  post?: number;
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

// Event kinds; the payload is an operation (END, FLOW) or a partial edge (PARTIAL).
const END = 0;
const FLOW = 1;
const PARTIAL = 2;

export class Engine {
  private streamOrdered: boolean[] = [];
  private streamLast: number[] = [];
  // Per operation, in flat arrays (a step has tens of thousands of operations).
  private opStream = i32();
  private opPre = f64();
  private opWork = f64();
  private opPost = f64();
  private opLinks: Array<readonly number[] | null> = [];
  private pending = i32();
  // Dependency edges as linked lists in insertion order, one list per operation of the edges
  // released by its end (whole) and one of those released part-way through it (partial, with the
  // fraction of its fixed time).
  private head = i32();
  private tail = i32();
  private edgeTo = i32();
  private edgeNext = i32();
  private partHead = i32();
  private partTail = i32();
  private partTo = i32();
  private partFrom = i32();
  private partNext = i32();
  private partFraction = f64();

  addStream(ordered: boolean): number {
    this.streamOrdered.push(ordered);
    this.streamLast.push(-1);
    return this.streamOrdered.length - 1;
  }

  get opCount(): number {
    return this.opStream.length;
  }

  /** Add an operation; on an ordered stream it follows the stream's previous operation. */
  add(spec: OpSpec): number {
    return this.op(spec.stream, spec.pre, spec.work ?? 0, spec.links ?? null, spec.post ?? 0);
  }

  /** add() without the spec object: `pre` seconds, `work` on `links`, then `post` seconds. */
  op(stream: number, pre: number, work = 0, links: readonly number[] | null = null, post = 0): number {
    const id = this.opStream.length;
    this.opStream.push(stream);
    this.opPre.push(pre);
    this.opWork.push(work);
    this.opPost.push(post);
    this.opLinks.push(links);
    this.pending.push(0);
    this.head.push(-1);
    this.tail.push(-1);
    this.partHead.push(-1);
    this.partTail.push(-1);
    const last = this.streamLast[stream]!;
    if (this.streamOrdered[stream] && last >= 0) this.dep(id, last);
    this.streamLast[stream] = id;
    return id;
  }

  /** `op` may start only once `on` has ended (fraction 1) or is `fraction` of the way through. */
  dep(op: number, on: number, fraction = 1): void {
    this.pending.data[op]!++;
    if (fraction < 1) {
      if (this.opWork.data[on]! > 0) throw new Error("a partial dependency needs a fixed-time operation");
      const e = this.partTo.length;
      this.partTo.push(op);
      this.partFrom.push(on);
      this.partNext.push(-1);
      this.partFraction.push(fraction);
      append(this.partHead.data, this.partTail.data, this.partNext.data, on, e);
      return;
    }
    const e = this.edgeTo.length;
    this.edgeTo.push(op);
    this.edgeNext.push(-1);
    append(this.head.data, this.tail.data, this.edgeNext.data, on, e);
  }

  run(): EngineResult {
    const n = this.opStream.length;
    const nStreams = this.streamOrdered.length;
    const ordered = Uint8Array.from(this.streamOrdered, (o) => (o ? 1 : 0));
    const opStream = this.opStream.data;
    const head = this.head.data;
    const edgeTo = this.edgeTo.data;
    const edgeNext = this.edgeNext.data;
    const partHead = this.partHead.data;
    const partTo = this.partTo.data;
    const partFrom = this.partFrom.data;
    const partNext = this.partNext.data;
    const partFraction = this.partFraction.data;
    const opPre = this.opPre.data;
    const opWork = this.opWork.data;
    const opPost = this.opPost.data;
    const start = new Float64Array(n).fill(NaN);
    const end = new Float64Array(n).fill(NaN);
    const ready = new Float64Array(n).fill(NaN);
    const binder = new Int32Array(n).fill(-1);
    const pending = this.pending.data.slice(0, n);
    const heap = new EventHeap();
    const links = new SharedLinks(this.opLinks);
    // Queued streams: busy flag and a FIFO of ready operations as a linked list through queueNext.
    const busy = new Uint8Array(nStreams);
    const queueHead = new Int32Array(nStreams).fill(-1);
    const queueTail = new Int32Array(nStreams).fill(-1);
    const queueNext = new Int32Array(n).fill(-1);
    let now = 0;
    let done = 0;

    const begin = (op: number, by: number) => {
      busy[opStream[op]!] = 1;
      start[op] = now;
      if (now > ready[op]!) binder[op] = by;
      const fixed = opPre[op]! + opPost[op]!;
      for (let e = partHead[op]!; e >= 0; e = partNext[e]!) heap.push(now + partFraction[e]! * fixed, PARTIAL, e);
      if (opWork[op]! > 0) heap.push(now + opPre[op]!, FLOW, op);
      else heap.push(now + fixed, END, op);
    };
    const dequeue = (s: number, by: number) => {
      const op = queueHead[s]!;
      queueHead[s] = queueNext[op]!;
      if (queueHead[s]! < 0) queueTail[s] = -1;
      begin(op, by);
    };
    const becomeReady = (op: number, by: number) => {
      ready[op] = now;
      binder[op] = by;
      const s = opStream[op]!;
      if (ordered[s] === 1) begin(op, by);
      else {
        if (queueTail[s]! < 0) queueHead[s] = op;
        else queueNext[queueTail[s]!] = op;
        queueTail[s] = op;
        if (busy[s] === 0) dequeue(s, by);
      }
    };
    const release = (op: number, by: number) => {
      if (--pending[op]! === 0) becomeReady(op, by);
    };
    const finish = (op: number) => {
      end[op] = now;
      done++;
      const s = opStream[op]!;
      busy[s] = 0;
      for (let e = head[op]!; e >= 0; e = edgeNext[e]!) release(edgeTo[e]!, op);
      if (ordered[s] === 0 && busy[s] === 0 && queueHead[s]! >= 0) dequeue(s, op);
    };

    for (let op = 0; op < n; op++) if (pending[op] === 0 && Number.isNaN(ready[op]!)) becomeReady(op, -1);
    for (;;) {
      const tHeap = heap.peekTime();
      const tFlow = links.nextFinish();
      if (tHeap === Infinity && tFlow === Infinity) break;
      if (tFlow < tHeap) {
        now = tFlow;
        const finished = links.finishAt(now);
        for (let i = 0; i < finished; i++) {
          const op = links.done[i]!;
          if (opPost[op]! > 0) heap.push(now + opPost[op]!, END, op);
          else finish(op);
        }
        continue;
      }
      const x = heap.pop();
      now = heap.time;
      const kind = heap.lastKind;
      if (kind === END) finish(x);
      else if (kind === FLOW) links.add(x, opWork[x]!, now);
      else release(partTo[x]!, partFrom[x]!); // PARTIAL
    }
    if (done !== n) throw new Error(`simulation deadlocked: ${n - done} of ${n} operations never ran`);
    let makespan = 0;
    for (let i = 0; i < n; i++) makespan = Math.max(makespan, end[i]!);
    return { start, end, ready, binder, makespan };
  }
}

/** Append edge `e` to operation `on`'s list (head/tail per operation, next per edge). */
function append(head: Int32Array, tail: Int32Array, next: Int32Array, on: number, e: number): void {
  if (tail[on]! < 0) head[on] = e;
  else next[tail[on]!] = e;
  tail[on] = e;
}
