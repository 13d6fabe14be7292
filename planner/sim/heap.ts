// Containers for the event engine: a binary min-heap of events, and the arena the per-operation
// tables live in. Both are typed arrays: a step pushes and pops hundreds of thousands of events,
// and an object or array per event made the garbage collector a fifth of the simulation's time.
import { WasmEngine } from "./wasm-run.js";

/** Tables kept from one simulation to the next, by name: typed arrays that only grow.
 *
 *  Reusing them is most of the simulator's speed where fresh memory is dear: on the 2-core VM
 *  this was tuned on, touching a newly allocated page costs ~10–25 µs (filling a new
 *  Float64Array of 4 000 took ~100 µs, the same array reused ~2 µs, and pushing 40 000 entries
 *  onto a new JS array ~4 ms), so allocating a step's per-operation tables anew (tens of
 *  thousands of operations, megabytes of tables) cost more than simulating it.
 *
 *  A table handed out stays valid until the same name is asked for again; its contents are
 *  whatever was last written (callers initialise what they read). Users of one arena must not
 *  be alive at the same time: one graph, engine and run at a time. */
export class Arena {
  private readonly f64s = new Map<string, Float64Array>();
  private readonly i32s = new Map<string, Int32Array>();
  private wasm: WasmEngine | undefined;

  /** The WebAssembly event engine the runs of this arena's engines play out in (wasm-run.ts),
   *  made at the first run. */
  engine(): WasmEngine {
    return (this.wasm ??= new WasmEngine());
  }

  /** A Float64Array of at least `size` entries; when it has to grow, the first `keep` entries of
   *  the one before are copied. */
  f64(key: string, size: number, keep = 0): Float64Array {
    const old = this.f64s.get(key);
    if (old && old.length >= size) return old;
    const a = new Float64Array(Math.max(64, size, 2 * (old?.length ?? 0)));
    if (old && keep > 0) a.set(old.subarray(0, keep));
    this.f64s.set(key, a);
    return a;
  }

  /** An Int32Array of at least `size` entries, as f64(). */
  i32(key: string, size: number, keep = 0): Int32Array {
    const old = this.i32s.get(key);
    if (old && old.length >= size) return old;
    const a = new Int32Array(Math.max(64, size, 2 * (old?.length ?? 0)));
    if (old && keep > 0) a.set(old.subarray(0, keep));
    this.i32s.set(key, a);
    return a;
  }

}

/** Binary min-heap of events keyed by (time, sequence): events at equal times pop in the order
 *  they were pushed. An event is a time, a kind and a payload (an integer). */
export class EventHeap {
  /** Event times in heap order: the earliest is t[0] while n > 0. Read in place by the engine's
   *  loop (run.ts): a call returning a double boxes it, once per event. */
  t: Float64Array;
  private seq: Float64Array;
  private kind: Int32Array;
  private payload: Int32Array;
  n = 0;
  private counter = 0;
  /** Time and kind of the event the last pop() returned. */
  time = 0;
  lastKind = 0;

  constructor(private readonly arena = new Arena()) {
    this.t = arena.f64("heap.t", 256);
    this.seq = arena.f64("heap.seq", 256);
    this.kind = arena.i32("heap.kind", 256);
    this.payload = arena.i32("heap.payload", 256);
  }

  get size(): number {
    return this.n;
  }
  push(time: number, kind: number, payload: number): void {
    if (this.n === this.t.length) this.grow();
    const { t, seq } = this;
    const s = this.counter++;
    // Sift up: move parents down into the hole until the new event's place is found.
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! < time || (t[p] === time && seq[p]! < s)) break;
      this.move(p, i);
      i = p;
    }
    t[i] = time;
    seq[i] = s;
    this.kind[i] = kind;
    this.payload[i] = payload;
  }
  /** Remove the earliest event; returns its payload (its time and kind in `time`, `lastKind`). */
  pop(): number {
    const { t, seq, kind, payload } = this;
    this.time = t[0]!;
    this.lastKind = kind[0]!;
    const out = payload[0]!;
    const n = --this.n;
    if (n > 0) {
      // Sift the last event down from the root.
      const lt = t[n]!, ls = seq[n]!, lk = kind[n]!, lp = payload[n]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        const r = c + 1;
        if (r < n && (t[r]! < t[c]! || (t[r] === t[c] && seq[r]! < seq[c]!))) c = r;
        if (lt < t[c]! || (lt === t[c] && ls < seq[c]!)) break;
        this.move(c, i);
        i = c;
      }
      t[i] = lt;
      seq[i] = ls;
      kind[i] = lk;
      payload[i] = lp;
    }
    return out;
  }
  private move(from: number, to: number): void {
    this.t[to] = this.t[from]!;
    this.seq[to] = this.seq[from]!;
    this.kind[to] = this.kind[from]!;
    this.payload[to] = this.payload[from]!;
  }
  private grow(): void {
    const { arena, n } = this;
    this.t = arena.f64("heap.t", n + 1, n);
    this.seq = arena.f64("heap.seq", n + 1, n);
    this.kind = arena.i32("heap.kind", n + 1, n);
    this.payload = arena.i32("heap.payload", n + 1, n);
  }
}
