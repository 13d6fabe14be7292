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
// The flows under way (at most one per stream) are a short list in typed arrays, in the order
// they started.

/** Link identifier of one representative rank: stage, intra-node (NVLink/PCIe) or network, and
 *  direction (links are full duplex: "per GPU, each way", planner/types.ts Link.bandwidth). */
export function linkId(stage: number, inter: boolean, incoming: boolean): number {
  return (stage * 2 + (inter ? 1 : 0)) * 2 + (incoming ? 1 : 0);
}

export class SharedLinks {
  // The flows under way (at most one per stream), in the order they started: operation, links
  // (distinct), work left at `since` (seconds at full rate), rate and projected finish.
  private count = 0;
  private op: Int32Array;
  private route: Int32Array[];
  private remaining: Float64Array;
  private since: Float64Array;
  private rate: Float64Array;
  private finish: Float64Array;
  /** The routes, each link once (a link listed twice carries a flow once), all typed arrays (one
   *  kind of array where a flow's links are read: plain arrays of several element kinds made the
   *  compiled loops below fall back to the interpreter), and the route of a flow on no link. */
  private readonly distinct: Int32Array[];
  private readonly noLinks = new Int32Array(0);
  /** Per link id: the flows crossing it, and the last change that touched it (see `stamp`). */
  private onLink: Int32Array;
  private touched: Int32Array;
  private stamp = 1;
  /** Absolute time the first flow finishes at the current rates (Infinity when none); a field,
   *  read in place by the engine's loop (a call returning a double boxes it). */
  next = Infinity;
  /** The operations of the flows the last finishAt() removed, in the order they started. */
  done: Int32Array;

  /** `routes`: the link lists flows may cross (by index); `slots`: room for that many flows at once. */
  constructor(routes: ReadonlyArray<readonly number[]>, slots = 16) {
    this.distinct = routes.map((ls) => Int32Array.from(ls.filter((l, i) => ls.indexOf(l) === i)));
    const n = Math.max(1, slots);
    this.op = new Int32Array(n);
    this.route = new Array<Int32Array>(n).fill(this.noLinks);
    this.remaining = new Float64Array(n);
    this.since = new Float64Array(n);
    this.rate = new Float64Array(n);
    this.finish = new Float64Array(n);
    this.done = new Int32Array(n);
    let links = 0;
    for (const ls of this.distinct) for (const l of ls) links = Math.max(links, l + 1);
    this.onLink = new Int32Array(links);
    this.touched = new Int32Array(links);
  }

  get size(): number {
    return this.count;
  }

  /** Start operation `op`'s flow of `work` seconds (alone) on route `route` (−1: no link) at
   *  time `now`. */
  add(op: number, work: number, route: number, now: number): void {
    if (this.count === this.op.length) this.grow();
    const i = this.count++;
    const links = route >= 0 ? this.distinct[route]! : this.noLinks;
    this.op[i] = op;
    this.route[i] = links;
    this.remaining[i] = work;
    this.since[i] = now;
    this.rate[i] = 1;
    this.finish[i] = now + work;
    for (let j = 0; j < links.length; j++) {
      this.onLink[links[j]!]!++;
      this.touched[links[j]!] = this.stamp;
    }
    this.rerate(now);
  }

  /** Remove the flows finishing at `now` (within a relative 1e-12); returns how many, their
   *  operations in `done`. */
  finishAt(now: number): number {
    const limit = now + 1e-12 * Math.max(now, 1e-30);
    const { op, route, remaining, since, rate, finish, done } = this;
    let kept = 0;
    let out = 0;
    for (let i = 0; i < this.count; i++) {
      if (finish[i]! <= limit) {
        done[out++] = op[i]!;
        const links = route[i]!;
        for (let j = 0; j < links.length; j++) {
          this.onLink[links[j]!]!--;
          this.touched[links[j]!] = this.stamp;
        }
        continue;
      }
      if (kept < i) {
        op[kept] = op[i]!;
        route[kept] = route[i]!;
        remaining[kept] = remaining[i]!;
        since[kept] = since[i]!;
        rate[kept] = rate[i]!;
        finish[kept] = finish[i]!;
      }
      kept++;
    }
    this.count = kept;
    this.rerate(now);
    return out;
  }

  /** Bring the flows on the links touched by this change up to `now`, give them their new
   *  rates, and find the next finish. */
  private rerate(now: number): void {
    const { route, remaining, since, rate, finish, onLink, touched, stamp } = this;
    let next = Infinity;
    for (let i = 0; i < this.count; i++) {
      const links = route[i]!;
      let hit = false;
      for (let j = 0; j < links.length; j++) if (touched[links[j]!] === stamp) hit = true;
      if (hit) {
        remaining[i] = remaining[i]! - rate[i]! * (now - since[i]!);
        since[i] = now;
        let most = 1;
        for (let j = 0; j < links.length; j++) most = Math.max(most, onLink[links[j]!]!);
        rate[i] = 1 / most;
        finish[i] = now + Math.max(0, remaining[i]!) / rate[i]!;
      }
      if (finish[i]! < next) next = finish[i]!;
    }
    this.next = next;
    this.stamp++;
  }

  private grow(): void {
    const n = 2 * this.op.length;
    const more = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (size: number) => T)(n);
      b.set(a);
      return b;
    };
    this.op = more(this.op);
    this.remaining = more(this.remaining);
    this.since = more(this.since);
    this.rate = more(this.rate);
    this.finish = more(this.finish);
    this.done = more(this.done);
    this.route.length = n;
    this.route.fill(this.noLinks, n / 2);
  }
}
