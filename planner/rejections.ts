// Why a configuration is not a plan. Invalid configurations are values, never exceptions:
// the search counts them by code so the user can see why a plan is missing. The layout codes and
// their reasons come from the one rule table (layout/rules.ts); memory is the cost model's.
import { type LayoutCode, RULES } from "./layout/rules.js";

export type RejectionCode = LayoutCode | "out_of_memory";

export const REJECTION_CODES: Readonly<Record<RejectionCode, string>> = {
  ...(Object.fromEntries(RULES.map((r) => [r.code, r.reason])) as Record<LayoutCode, string>),
  out_of_memory: "does not fit in GPU memory",
};

export interface Rejection {
  code: RejectionCode;
  /** How many configurations of the enumerated space this rejection covers. */
  count: number;
}

export type RejectionCounts = Partial<Record<RejectionCode, number>>;

/** Count n configurations under a code; none (n = 0: an empty sub-space) leaves no entry, so that
 *  every listed reason covers at least one configuration. */
export function addRejection(counts: RejectionCounts, code: RejectionCode, n = 1): void {
  if (n <= 0) return;
  counts[code] = (counts[code] ?? 0) + n;
}
