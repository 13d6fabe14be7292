// The layout bench/calibration/write-back.ts writes profiles in (its own module: write-back.ts
// runs the fit when imported).

/** The committed files' layout: two-space JSON with lists of names (precisions, positions,
 *  schedules) on one line, so that a refit's diff shows only the figures it changed. */
export const profileJson = (j: unknown): string => `${JSON.stringify(j, null, 2).replace(/\[\s*("[^"\n]*"(?:,\s*"[^"\n]*")*)\s*\]/g, (_, items: string) => `[${(JSON.parse(`[${items}]`) as string[]).map((x) => JSON.stringify(x)).join(", ")}]`)}\n`;
