// Containers for the event engine: a binary min-heap of events and growable typed columns.

/** Binary min-heap of events keyed by (time, sequence). */
export class EventHeap {
  private t: number[] = [];
  private seq: number[] = [];
  private kind: number[] = [];
  private op: number[] = [];
  private n = 0;
  private counter = 0;

  get size(): number {
    return this.n;
  }
  peekTime(): number {
    return this.n > 0 ? this.t[0]! : Infinity;
  }
  push(time: number, kind: number, op: number): void {
    let i = this.n++;
    const s = this.counter++;
    this.t[i] = time;
    this.seq[i] = s;
    this.kind[i] = kind;
    this.op[i] = op;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number, number] {
    const out: [number, number, number] = [this.t[0]!, this.kind[0]!, this.op[0]!];
    this.n--;
    if (this.n > 0) {
      this.swap(0, this.n);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.n && this.less(l, m)) m = l;
        if (r < this.n && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return out;
  }
  private less(a: number, b: number): boolean {
    return this.t[a]! < this.t[b]! || (this.t[a] === this.t[b] && this.seq[a]! < this.seq[b]!);
  }
  private swap(a: number, b: number): void {
    const { t, seq, kind, op } = this;
    const t0 = t[a]!, s0 = seq[a]!, k0 = kind[a]!, o0 = op[a]!;
    t[a] = t[b]!;
    seq[a] = seq[b]!;
    kind[a] = kind[b]!;
    op[a] = op[b]!;
    t[b] = t0;
    seq[b] = s0;
    kind[b] = k0;
    op[b] = o0;
  }
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

