// A figure in a profile file: a bare value, or { value, source }. Reading one records its source
// (or that none was given) under its field path, for the reports that cite every figure.

export type FigureIn<T> = T | { value: T; source: string };

/** A reader of figures that fills `sources` (path → cited source) as it reads. */
export function figureReader(origin: string, sources: Record<string, string>) {
  return function fig<T>(path: string, x: FigureIn<T>): T {
    if (typeof x === "object" && x !== null && "value" in x) {
      sources[path] = x.source;
      return x.value;
    }
    sources[path] = `${origin} (no source given)`;
    return x as T;
  };
}
