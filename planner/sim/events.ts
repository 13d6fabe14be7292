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
// Everything per operation, per edge and per event lives in typed arrays of an Arena (heap.ts):
// a step has tens of thousands of operations and nothing is allocated per operation or event.
import { Arena } from "./heap.js";
import { type EngineResult, Run, type RunTables } from "./run.js";

export type { EngineResult } from "./run.js";

export interface OpSpec {
  stream: number;
  pre: number;
  work?: number;
  links?: readonly number[];
  post?: number;
}

export class Engine {
  private streamOrdered: boolean[] = [];
  private streamLast: number[] = [];
  /** Distinct link lists (by identity), named by index in opRoute. */
  private routes: Array<readonly number[]> = [];
  private routeIds = new Map<readonly number[], number>();
  // Per operation, room for `capacity`: stream, fixed times, work and its route (−1: none),
  // dependencies not yet met.
  private n = 0;
  private capacity = 0;
  private opStream!: Int32Array;
  private opPre!: Float64Array;
  private opWork!: Float64Array;
  private opPost!: Float64Array;
  private opRoute!: Int32Array;
  private pending!: Int32Array;
  // Dependency edges as linked lists in insertion order, one list per operation of the edges
  // released by its end (head/tail, whole) and one of those released part-way through it
  // (partHead/partTail, with the fraction of its fixed time).
  private head!: Int32Array;
  private tail!: Int32Array;
  private partHead!: Int32Array;
  private partTail!: Int32Array;
  private nEdges = 0;
  private edgeTo: Int32Array;
  private edgeNext: Int32Array;
  private nParts = 0;
  private partTo: Int32Array;
  private partFrom: Int32Array;
  private partNext: Int32Array;
  private partFraction: Float64Array;

  /** Where the tables live; with an arena passed in (`shared`), run()'s result lives there too. */
  private readonly tables: Arena;
  private readonly shared: boolean;

  /** `capacity`: operations to make room for at first (they grow as needed). With a shared
   *  `arena` (simulate.ts) the tables, and run()'s result, are reused from one engine to the next:
   *  the result is valid until the arena's next engine runs or builds a graph (graph-wasm.ts). */
  constructor(capacity = 1024, arena?: Arena) {
    const a = (this.tables = arena ?? new Arena());
    this.shared = arena !== undefined;
    this.growOps(Math.max(16, capacity));
    this.edgeTo = a.i32("edge.to", 2 * capacity);
    this.edgeNext = a.i32("edge.next", 2 * capacity);
    this.partTo = a.i32("part.to", 64);
    this.partFrom = a.i32("part.from", 64);
    this.partNext = a.i32("part.next", 64);
    this.partFraction = a.f64("part.fraction", 64);
  }

  addStream(ordered: boolean): number {
    this.streamOrdered.push(ordered);
    this.streamLast.push(-1);
    return this.streamOrdered.length - 1;
  }

  get opCount(): number {
    return this.n;
  }

  get streamCount(): number {
    return this.streamOrdered.length;
  }

  /** Whether stream `s` runs its operations in the order they were added. */
  isOrdered(s: number): boolean {
    return this.streamOrdered[s] === true;
  }

  /** For a builder that writes this engine's operations and edges from the first (graph-wasm.ts):
   *  its tables, with room for `ops` operations, `edges` edges and `parts` partial dependencies;
   *  adopt() then takes the counts. The engine must hold nothing yet. */
  bulkTables(ops: number, edges: number, parts = 0) {
    if (this.n !== 0 || this.nEdges !== 0 || this.nParts !== 0) throw new Error("bulkTables: the engine already holds operations");
    if (ops > this.capacity) this.growOps(ops);
    const a = this.tables;
    if (edges > this.edgeTo.length) {
      this.edgeTo = a.i32("edge.to", edges);
      this.edgeNext = a.i32("edge.next", edges);
    }
    if (parts > this.partTo.length) {
      this.partTo = a.i32("part.to", parts);
      this.partFrom = a.i32("part.from", parts);
      this.partNext = a.i32("part.next", parts);
      this.partFraction = a.f64("part.fraction", parts);
    }
    const { opStream, opPre, opWork, opPost, opRoute, pending, head, tail, partHead, partTail, edgeTo, edgeNext, partTo, partFrom, partNext, partFraction } = this;
    return { opStream, opPre, opWork, opPost, opRoute, pending, head, tail, partHead, partTail, edgeTo, edgeNext, partTo, partFrom, partNext, partFraction };
  }

  /** After bulkTables: `n` operations, `nEdges` edges and `nParts` partial dependencies written,
   *  each stream's last operation. */
  adopt(n: number, nEdges: number, streamLast: ArrayLike<number>, nParts = 0): void {
    this.n = n;
    this.nEdges = nEdges;
    this.nParts = nParts;
    for (let s = 0; s < this.streamLast.length; s++) this.streamLast[s] = streamLast[s]!;
  }

  /** Add an operation; on an ordered stream it follows the stream's previous operation. */
  add(spec: OpSpec): number {
    return this.op(spec.stream, spec.pre, spec.work ?? 0, spec.links ?? null, spec.post ?? 0);
  }

  /** add() without the spec object: `pre` seconds, `work` on `links`, then `post` seconds. */
  op(stream: number, pre: number, work = 0, links: readonly number[] | null = null, post = 0): number {
    return this.opOn(stream, pre, work, links ? this.routeOf(links) : -1, post);
  }

  /** op() with its links as a route of routeOf() (−1: none): a graph adding thousands of
   *  operations on a few routes names each once. */
  opOn(stream: number, pre: number, work: number, route: number, post: number): number {
    const id = this.place(stream, route);
    this.opPre[id] = pre;
    this.opWork[id] = work;
    this.opPost[id] = post;
    return id;
  }

  /** opOn() with the times of kind `kind` of `pre`, `work` and `post` (retime's tables): a graph
   *  adds tens of thousands of operations of a few kinds, and a time passed to a call V8 does not
   *  inline (src/app/one-shot.ts) is a number boxed on the heap, one to three per operation. */
  opOfKind(stream: number, kind: number, pre: Float64Array, work: Float64Array, post: Float64Array, route: number): number {
    // place() written out: until V8 compiles them, every call on this path, once per operation,
    // runs in the interpreter (issue 11, start-up)
    const id = this.n;
    if (id === this.capacity) this.growOps(2 * id);
    this.n = id + 1;
    this.opStream[id] = stream;
    this.opPre[id] = pre[kind]!;
    this.opWork[id] = work[kind]!;
    this.opPost[id] = post[kind]!;
    this.opRoute[id] = route;
    this.pending[id] = 0;
    this.head[id] = -1;
    this.tail[id] = -1;
    this.partHead[id] = -1;
    this.partTail[id] = -1;
    const last = this.streamLast[stream]!;
    if (this.streamOrdered[stream] && last >= 0) this.edge(id, last);
    this.streamLast[stream] = id;
    return id;
  }

  /** A new operation on `stream` with its route, no dependency yet but its stream's order; its
   *  times are the caller's to set. */
  private place(stream: number, route: number): number {
    const id = this.n;
    if (id === this.capacity) this.growOps(2 * id);
    this.n = id + 1;
    this.opStream[id] = stream;
    this.opRoute[id] = route;
    this.pending[id] = 0;
    this.head[id] = -1;
    this.tail[id] = -1;
    this.partHead[id] = -1;
    this.partTail[id] = -1;
    const last = this.streamLast[stream]!;
    if (this.streamOrdered[stream] && last >= 0) this.edge(id, last);
    this.streamLast[stream] = id;
    return id;
  }

  /** `op` may start only once `on` has ended (fraction 1) or is `fraction` of the way through. */
  dep(op: number, on: number, fraction = 1): void {
    if (fraction < 1) return this.partialDep(op, on, fraction);
    if (!(on >= 0 && on < this.n && op >= 0 && op < this.n)) throw new Error(`dependency of operation ${op} on ${on}, outside 0…${this.n - 1}`);
    this.edge(op, on);
  }

  /** dep() with a fraction below 1, of its own: the graph's thousands of whole dependencies pass
   *  none, and dep() compiled on them was thrown away at the first fraction (not a small integer). */
  partialDep(op: number, on: number, fraction: number): void {
    if (!(on >= 0 && on < this.n && op >= 0 && op < this.n)) throw new Error(`dependency of operation ${op} on ${on}, outside 0…${this.n - 1}`);
    if (this.opWork[on]! > 0) throw new Error("a partial dependency needs a fixed-time operation");
    this.pending[op]!++;
    const a = this.tables;
    const e = this.nParts++;
    if (e === this.partTo.length) {
      this.partTo = a.i32("part.to", e + 1, e);
      this.partFrom = a.i32("part.from", e + 1, e);
      this.partNext = a.i32("part.next", e + 1, e);
      this.partFraction = a.f64("part.fraction", e + 1, e);
    }
    this.partTo[e] = op;
    this.partFrom[e] = on;
    this.partNext[e] = -1;
    this.partFraction[e] = fraction;
    append(this.partHead, this.partTail, this.partNext, on, e);
  }

  /** A whole dependency of `op` on `on`, both known to exist (dep() checks them). */
  private edge(op: number, on: number): void {
    this.pending[op]!++;
    const e = this.nEdges++;
    if (e === this.edgeTo.length) {
      this.edgeTo = this.tables.i32("edge.to", e + 1, e);
      this.edgeNext = this.tables.i32("edge.next", e + 1, e);
    }
    this.edgeTo[e] = op;
    this.edgeNext[e] = -1;
    // (append() written out: one call fewer per dependency while it runs interpreted)
    const last = this.tail[on]!;
    if (last < 0) this.head[on] = e;
    else this.edgeNext[last] = e;
    this.tail[on] = e;
  }

  /** Partial dependencies added so far (dep() with a fraction below 1), in order. */
  get partialCount(): number {
    return this.nParts;
  }

  /** The operation partial dependency `e` waits on part of. */
  partialOn(e: number): number {
    return this.partFrom[e]!;
  }

  /** How far through its operation partial dependency `e` is met (reuse.ts: other costs). */
  setPartialFraction(e: number, fraction: number): void {
    this.partFraction[e] = fraction;
  }

  /** The tables retime() and setPartialFraction() write, for a caller that writes them all at once
   *  (reuse.ts, in WebAssembly): every operation's times, each partial dependency's producer and
   *  fraction, valid until the next change. */
  timeTables() {
    const { n, opPre, opWork, opPost, nParts, partFrom, partFraction } = this;
    return { n, opPre, opWork, opPost, nParts, partFrom, partFraction };
  }

  /** Every operation's times from its kind's: `kind[op]` indexes `pre`, `work` and `post`
   *  (reuse.ts: the same operations and dependencies, played with other costs). */
  retime(kind: Int32Array, pre: ArrayLike<number>, work: ArrayLike<number>, post: ArrayLike<number>): void {
    const { opPre, opWork, opPost } = this;
    for (let op = 0; op < this.n; op++) {
      const k = kind[op]!;
      opPre[op] = pre[k]!;
      opWork[op] = work[k]!;
      opPost[op] = post[k]!;
    }
  }

  /** Play the operations out: in WebAssembly (wasm-run.ts), or in TypeScript (`reference`:
   *  run.ts, the same rules, which the tests hold the WebAssembly engine to). */
  run(reference = false): EngineResult {
    const tables = this.runTables();
    return reference ? new Run(tables, this.tables, this.shared).play() : this.tables.engine().play(tables, this.shared);
  }

  /** The operations and dependencies as run() reads them (valid until the next change). */
  runTables(): RunTables {
    const { n, routes, streamOrdered, opStream, opPre, opWork, opPost, opRoute, pending, head, edgeTo, edgeNext, nEdges, nParts } = this;
    const { partHead, partTo, partFrom, partNext, partFraction } = this;
    return { n, routes, streamOrdered, opStream, opPre, opWork, opPost, opRoute, pending, head, edgeTo, edgeNext, nEdges, nParts, partHead, partTo, partFrom, partNext, partFraction };
  }

  /** The route of a list of links (by identity: the same array, the same route). */
  routeOf(links: readonly number[]): number {
    let r = this.routeIds.get(links);
    if (r === undefined) {
      r = this.routes.length;
      this.routes.push(links);
      this.routeIds.set(links, r);
    }
    return r;
  }

  private growOps(size: number): void {
    const a = this.tables;
    const keep = this.n;
    this.opStream = a.i32("op.stream", size, keep);
    this.opPre = a.f64("op.pre", size, keep);
    this.opWork = a.f64("op.work", size, keep);
    this.opPost = a.f64("op.post", size, keep);
    this.opRoute = a.i32("op.route", size, keep);
    this.pending = a.i32("op.pending", size, keep);
    this.head = a.i32("op.head", size, keep);
    this.tail = a.i32("op.tail", size, keep);
    this.partHead = a.i32("op.partHead", size, keep);
    this.partTail = a.i32("op.partTail", size, keep);
    const lengths = [this.opStream, this.opPre, this.opWork, this.opPost, this.opRoute, this.pending, this.head, this.tail, this.partHead, this.partTail].map((t) => t.length);
    this.capacity = Math.min(...lengths);
  }
}

/** Append edge `e` to operation `on`'s list (head/tail per operation, next per edge). */
function append(head: Int32Array, tail: Int32Array, next: Int32Array, on: number, e: number): void {
  if (tail[on]! < 0) head[on] = e;
  else next[tail[on]!] = e;
  tail[on] = e;
}
