// Containers for the event engine: a binary min-heap of events and growable typed columns.
// Both live in typed arrays: a step pushes and pops hundreds of thousands of events, and an
// object or array per event made the garbage collector a fifth of the simulation's time.

/** Binary min-heap of events keyed by (time, sequence): events at equal times pop in the order
 *  they were pushed. An event is a time, a kind and a payload (an integer). */
export class EventHeap {
  private t = new Float64Array(256);
  private seq = new Float64Array(256);
  private kind = new Int32Array(256);
  private payload = new Int32Array(256);
  private n = 0;
  private counter = 0;
  /** Time and kind of the event the last pop() returned. */
  time = 0;
  lastKind = 0;

  get size(): number {
    return this.n;
  }
  peekTime(): number {
    return this.n > 0 ? this.t[0]! : Infinity;
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
    const size = this.t.length * 2;
    this.t = grown(this.t, new Float64Array(size));
    this.seq = grown(this.seq, new Float64Array(size));
    this.kind = grown(this.kind, new Int32Array(size));
    this.payload = grown(this.payload, new Int32Array(size));
  }
}

function grown<T extends Float64Array | Int32Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

/** A growable array of numbers on a typed array (doubling), for the per-operation tables. */
export class Column<T extends Float64Array | Int32Array> {
  length = 0;
  constructor(public data: T) {}
  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export const f64 = () => new Column(new Float64Array(1024));
export const i32 = () => new Column(new Int32Array(1024));
