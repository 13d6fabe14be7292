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

/** Link identifier of one representative rank: stage, intra-node (NVLink/PCIe) or network, and
 *  direction (links are full duplex: "per GPU, each way", planner/types.ts Link.bandwidth). */
export function linkId(stage: number, inter: boolean, incoming: boolean): number {
  return (stage * 2 + (inter ? 1 : 0)) * 2 + (incoming ? 1 : 0);
}

interface Flow {
  op: number;
  links: readonly number[];
  /** Work left at `since`, seconds at full rate. */
  remaining: number;
  since: number;
  rate: number;
  finishAt: number;
}

export class SharedLinks {
  private readonly onLink = new Map<number, Set<Flow>>();
  private readonly flows = new Set<Flow>();
  private next = Infinity;

  get size(): number {
    return this.flows.size;
  }

  /** Absolute time the first flow finishes at the current rates (Infinity when none). */
  nextFinish(): number {
    return this.next;
  }

  /** Start a flow of `work` seconds (alone) on `links` at time `now`. */
  add(op: number, work: number, links: readonly number[], now: number): void {
    const f: Flow = { op, links, remaining: work, since: now, rate: 1, finishAt: now + work };
    this.flows.add(f);
    for (const l of links) {
      let set = this.onLink.get(l);
      if (!set) this.onLink.set(l, (set = new Set()));
      set.add(f);
    }
    this.rerate(links, now);
  }

  /** Remove and return the ops of the flows finishing at `now` (within a relative 1e-12). */
  finishAt(now: number): number[] {
    const done: Flow[] = [];
    for (const f of this.flows) if (f.finishAt <= now + 1e-12 * Math.max(now, 1e-30)) done.push(f);
    const touched: number[] = [];
    for (const f of done) {
      this.flows.delete(f);
      for (const l of f.links) {
        this.onLink.get(l)!.delete(f);
        touched.push(l);
      }
    }
    this.rerate(touched, now);
    return done.map((f) => f.op);
  }

  /** Bring the flows on `links` up to `now` and give them their new rates. */
  private rerate(links: readonly number[], now: number): void {
    const affected = new Set<Flow>();
    for (const l of links) for (const f of this.onLink.get(l) ?? []) affected.add(f);
    for (const f of affected) {
      f.remaining -= f.rate * (now - f.since);
      f.since = now;
      let most = 1;
      for (const l of f.links) most = Math.max(most, this.onLink.get(l)!.size);
      f.rate = 1 / most;
      f.finishAt = now + Math.max(0, f.remaining) / f.rate;
    }
    this.next = Infinity;
    for (const f of this.flows) if (f.finishAt < this.next) this.next = f.finishAt;
  }
}
