// Links whose bandwidth is shared by the transfers crossing them at the same time.
//
// A transfer's bandwidth term (M/B of the α–β model, planner/cost/collectives.ts) is "work":
// seconds it would take alone on its links. While k transfers cross one link each progresses at
// 1/k of the link's rate (processor sharing, the fluid model of TCP/IB flow fairness); a transfer
// crossing several links goes at the rate of its most crowded one. Two equal transfers started
// together on one link therefore both finish after twice the time one takes alone.
// The latency term α is not shared: the engine charges it before the transfer joins its links.
//
// Each flow keeps its remaining work as of the last time its rate changed and its projected
// finish; only the flows on the links a transfer joins or leaves are brought up to date.
// A flow is named by its operation: its state lives in typed arrays indexed by operation, and
// the flows under way (at most one per stream) in a short list in the order they started.

/** Link identifier of one representative rank: stage, intra-node (NVLink/PCIe) or network, and
 *  direction (links are full duplex: "per GPU, each way", planner/types.ts Link.bandwidth). */
export function linkId(stage: number, inter: boolean, incoming: boolean): number {
  return (stage * 2 + (inter ? 1 : 0)) * 2 + (incoming ? 1 : 0);
}

export class SharedLinks {
  // Per operation: its links, work left at `since` (seconds at full rate), rate, projected finish.
  private readonly remaining: Float64Array;
  private readonly since: Float64Array;
  private readonly rate: Float64Array;
  private readonly finish: Float64Array;
  /** Flows under way, in the order they started. */
  private active = new Int32Array(16);
  private count = 0;
  /** Per link id: the flows crossing it, and a mark for the links a change touches. */
  private onLink: Int32Array;
  private touched: Uint8Array;
  private next = Infinity;
  /** The operations of the flows the last finishAt() removed, in the order they started. */
  readonly done: Int32Array;

  constructor(private readonly opLinks: ReadonlyArray<readonly number[] | null>) {
    const n = opLinks.length;
    this.remaining = new Float64Array(n);
    this.since = new Float64Array(n);
    this.rate = new Float64Array(n);
    this.finish = new Float64Array(n);
    this.done = new Int32Array(n);
    let links = 0;
    for (const ls of opLinks) if (ls) for (const l of ls) links = Math.max(links, l + 1);
    this.onLink = new Int32Array(links);
    this.touched = new Uint8Array(links);
  }

  get size(): number {
    return this.count;
  }

  /** Absolute time the first flow finishes at the current rates (Infinity when none). */
  nextFinish(): number {
    return this.next;
  }

  /** Start operation `op`'s flow of `work` seconds (alone) on its links at time `now`. */
  add(op: number, work: number, now: number): void {
    this.remaining[op] = work;
    this.since[op] = now;
    this.rate[op] = 1;
    this.finish[op] = now + work;
    if (this.count === this.active.length) {
      const bigger = new Int32Array(this.count * 2);
      bigger.set(this.active);
      this.active = bigger;
    }
    this.active[this.count++] = op;
    const links = this.opLinks[op] ?? [];
    for (let i = 0; i < links.length; i++) {
      const l = links[i]!;
      if (links.indexOf(l) === i) this.onLink[l]!++; // a link listed twice carries the flow once
      this.touched[l] = 1;
    }
    this.rerate(now);
  }

  /** Remove the flows finishing at `now` (within a relative 1e-12); returns how many, their
   *  operations in `done`. */
  finishAt(now: number): number {
    const limit = now + 1e-12 * Math.max(now, 1e-30);
    const { active, finish, done } = this;
    let kept = 0;
    let out = 0;
    for (let i = 0; i < this.count; i++) {
      const op = active[i]!;
      if (finish[op]! <= limit) done[out++] = op;
      else active[kept++] = op;
    }
    this.count = kept;
    for (let i = 0; i < out; i++) {
      const links = this.opLinks[done[i]!] ?? [];
      for (let j = 0; j < links.length; j++) {
        const l = links[j]!;
        if (links.indexOf(l) === j) this.onLink[l]!--;
        this.touched[l] = 1;
      }
    }
    this.rerate(now);
    return out;
  }

  /** Bring the flows on the touched links up to `now`, give them their new rates, clear the
   *  marks and find the next finish. */
  private rerate(now: number): void {
    const { active, remaining, since, rate, finish, onLink, touched } = this;
    let next = Infinity;
    for (let i = 0; i < this.count; i++) {
      const op = active[i]!;
      const links = this.opLinks[op] ?? [];
      let hit = false;
      for (let j = 0; j < links.length; j++) if (touched[links[j]!] === 1) hit = true;
      if (hit) {
        remaining[op] = remaining[op]! - rate[op]! * (now - since[op]!);
        since[op] = now;
        let most = 1;
        for (let j = 0; j < links.length; j++) most = Math.max(most, onLink[links[j]!]!);
        rate[op] = 1 / most;
        finish[op] = now + Math.max(0, remaining[op]!) / rate[op]!;
      }
      if (finish[op]! < next) next = finish[op]!;
    }
    this.next = next;
    touched.fill(0);
  }
}
