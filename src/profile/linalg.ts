// Linear least squares for the profile's fits (α–β of collectives, calibration scale factors),
// through mathjs: QR decomposition (Householder) and back substitution on R, the textbook way to
// solve min ‖A·x − b‖₂ without forming AᵀA (Golub & Van Loan, Matrix Computations, §5.3).
import { createRequire } from "node:module";
import type * as MathJs from "mathjs";

// The single-file bundle, as planner/units.ts loads it (~0.1 s against ~0.9 s for the ESM tree).
const math = createRequire(import.meta.url)("mathjs/lib/browser/math.js") as typeof MathJs;

export class SingularFit extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SingularFit";
  }
}

/** A mathjs failure ("matrix is singular", NaN pivots) as a SingularFit: one line, never the
 *  library's error (Node prints its minified source line, hundreds of KB, with an uncaught one). */
function mathjs<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new SingularFit(`least squares: ${(e as Error).message.split("\n")[0]!.slice(0, 200)}`);
  }
}

function qrParts(A: number[][]): { R: number[][]; Q: number[][]; n: number } {
  const m = A.length;
  const n = A[0]?.length ?? 0;
  if (n === 0 || m < n) throw new SingularFit(`least squares needs at least as many rows (${m}) as unknowns (${n})`);
  if (!A.every((r) => r.every(Number.isFinite))) throw new SingularFit("least squares: the matrix has a value that is not a finite number");
  const { Q, R } = mathjs(() => math.qr(A) as unknown as { Q: number[][]; R: number[][] });
  return { Q, R, n };
}

/** |R_ii| of the QR of A with unit-norm columns, largest over smallest: the ratio by which the
 *  columns fail to be independent (∞ for a zero or repeated column). */
export function conditionEstimate(A: number[][]): number {
  const n = A[0]?.length ?? 0;
  const norms = Array.from({ length: n }, (_, j) => Math.hypot(...A.map((r) => r[j]!)));
  if (norms.some((x) => !(x > 0))) return Infinity;
  const { R } = qrParts(A.map((r) => r.map((v, j) => v / norms[j]!)));
  const diag = Array.from({ length: n }, (_, i) => Math.abs(R[i]![i]!));
  const lo = Math.min(...diag);
  return lo > 0 ? Math.max(...diag) / lo : Infinity;
}

/** x minimising ‖A·x − b‖₂ (A is m×n, m ≥ n, full column rank). */
export function leastSquares(A: number[][], b: number[]): number[] {
  if (A.length !== b.length) throw new Error("least squares: A and b differ in rows");
  if (!b.every(Number.isFinite)) throw new SingularFit("least squares: the right-hand side has a value that is not a finite number");
  const { Q, R, n } = qrParts(A);
  const qtb = mathjs(() => math.multiply(math.transpose(Q), b.map((v) => [v])) as number[][]);
  const Rn = R.slice(0, n).map((row) => row.slice(0, n));
  const scale = Math.max(...Rn.map((row, i) => Math.abs(row[i]!)));
  if (Rn.some((row, i) => !(Math.abs(row[i]!) > scale * 1e-12)))
    throw new SingularFit("least squares: the columns are linearly dependent");
  const x = mathjs(() => math.usolve(Rn, qtb.slice(0, n)) as unknown as number[][]).map((r) => r[0]!);
  if (!x.every(Number.isFinite)) throw new SingularFit("least squares: the solution is not finite (the columns are nearly dependent)");
  return x;
}
