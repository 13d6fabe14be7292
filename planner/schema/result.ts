// Parse results as values: ok with the value, or a one-line message naming the field and the fix.
import type { z } from "zod";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function describePath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

/** Whether `path` names a key that the parsed input does not have (zod 4 reports a missing key as
 *  "Invalid input: expected …, received undefined", or for a union only "Invalid input"). */
function isMissing(raw: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  if (path.length === 0) return false;
  let at: unknown = raw;
  for (const key of path.slice(0, -1)) {
    if (typeof at !== "object" || at === null) return false;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return typeof at === "object" && at !== null && (at as Record<PropertyKey, unknown>)[path[path.length - 1]!] === undefined;
}

type Issue = z.ZodError["issues"][number];

/** A union's failure told by its closest branch: zod 4 says only "Invalid input" for a union
 *  (a figure is `value` or `{ value, source }`). The branch that got inside the input (its first
 *  issue is deeper than the union), else one that is not a wrong type at the union's own path,
 *  says what is wrong. */
function unionBranch(issue: Issue): Issue | undefined {
  if (issue.code !== "invalid_union" || !("errors" in issue)) return undefined;
  const firsts = issue.errors.map((branch) => branch[0]).filter((i): i is Issue => i !== undefined);
  // A union of literals (a ZeRO stage 0–3) fails in every branch at its own path: one issue of
  // all the values, not the first branch's "expected 0".
  if (firsts.length > 1 && firsts.every((i) => i.code === "invalid_value" && i.path.length === 0))
    return { ...firsts[0]!, path: issue.path, values: firsts.flatMap((i) => (i.code === "invalid_value" ? i.values : [])) } as Issue;
  const closer = firsts.find((i) => i.path.length > 0) ?? firsts.find((i) => i.code !== "invalid_type") ?? firsts[0];
  if (!closer) return undefined;
  const inner = { ...closer, path: [...issue.path, ...closer.path] } as Issue;
  return unionBranch(inner) ?? inner;
}

/** The first zod issue as one line: `field "gpu.memory": expected string, received number`, or
 *  `field "gpu.memory": missing` when the input (`raw`, when given) lacks the key. */
export function firstIssue(error: z.ZodError, raw?: unknown): string {
  const first = error.issues[0];
  if (!first) return "invalid value";
  const issue = unionBranch(first) ?? first;
  if (issue.code === "unrecognized_keys") {
    // (the first few, and how many more: a file of thousands of stray keys is still one line)
    const keys = issue.keys.slice(0, 8).map((k) => `"${k}"`).join(", ") + (issue.keys.length > 8 ? ` and ${issue.keys.length - 8} more` : "");
    const where = issue.path.length ? ` in "${describePath(issue.path)}"` : "";
    return `unknown field ${keys}${where}; remove it or check its spelling`;
  }
  const field = issue.path.length ? `field "${describePath(issue.path)}"` : "the file";
  if (raw !== undefined && isMissing(raw, issue.path)) return `${field}: missing`;
  // A bare number where a quantity with its unit is read ("gpu.memory": 80): say how to write it.
  const given = valueAt(raw, issue.path);
  // (the example its own number where that is one to copy: "-1 GB/s" or "0 GB/s" are refused too)
  if (issue.code === "invalid_type" && issue.expected === "string" && typeof given === "number")
    return `${field}: ${issue.message}; a quantity is written with its unit, like "${given > 0 && Number.isFinite(given) ? given : 1} ${unitLike(issue.path)}"`;
  // (a schema's own words, boundedCount's "must be at most 10,000", kept)
  const words = /^(Too small|Too big|Invalid input|Invalid option)/.test(issue.message)
    ? (booleanWords(issue, given) ?? listWords(issue, given) ?? numberWords(issue, given) ?? choiceWords(issue, given) ?? emptyWords(issue, given))
    : null;
  return `${field}: ${words ?? issue.message}`;
}

/** A switch given as anything but true or false, in words with the value (it was zod's own
 *  "Invalid input: expected boolean, received string"): "yes", "true", 0.1 or 1. */
function booleanWords(issue: Issue, given: unknown): string | null {
  if (issue.code !== "invalid_type" || issue.expected !== "boolean" || given === undefined) return null;
  if (typeof given === "string" && /^(true|false)$/i.test(given.trim())) return `"${given}" is text; write ${given.trim().toLowerCase()} without quotes`;
  return `${JSON.stringify(given)} is not a switch; write true or false (JSON, without quotes)`;
}

/** A list's length against its bound, in words (it was zod's own "Too small: expected array to
 *  have >=1 items"): `[]` for the matmul table's points, `[1e9]` for one [FLOPs, efficiency] pair. */
function listWords(issue: Issue, given: unknown): string | null {
  if ((issue.code !== "too_small" && issue.code !== "too_big") || issue.origin !== "array" || !Array.isArray(given)) return null;
  const items = (n: number) => `${n} ${n === 1 ? "item" : "items"}`;
  const bound = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
  return `${JSON.stringify(given).length > 40 ? "the list" : JSON.stringify(given)} has ${items(given.length)}; give ${issue.code === "too_small" ? "at least" : "at most"} ${items(bound)}`;
}

/** A number's bound or type in words with the value, for zod's own ("Too small: expected number
 *  to be >=0", "expected number, received string"). */
function numberWords(issue: Issue, given: unknown): string | null {
  if (issue.code === "invalid_type" && issue.expected === "number") {
    if (typeof given === "string") return Number.isFinite(Number(given)) && given.trim() !== "" ? `"${given}" is text; write the number without quotes, like ${Number(given)}` : `"${given}" is not a number`;
    if (given === Infinity || given === -Infinity) return "a number past a double's range (1e400 reads as Infinity) is out of range";
    return null;
  }
  if (typeof given !== "number" || (issue.code !== "too_small" && issue.code !== "too_big") || issue.origin !== "number") return null;
  const bound = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
  if (issue.code === "too_big") return issue.inclusive ? `${given} is above ${bound}, the most it may be` : `${given} must be below ${bound}`;
  if (given === 0 && bound === 0) return "0 must be above zero";
  if (given < 0 && bound >= 0) return `${given} is negative; it is ${issue.inclusive ? "at least" : "above"} ${bound}`;
  return issue.inclusive ? `${given} is below ${bound}, the least it may be` : `${given} must be above ${bound}`;
}

/** A value outside a list of choices, in words with the value and the choices (it was zod's own
 *  "Invalid input: expected 0" for a ZeRO stage 4, the first of the union's literals; "Invalid
 *  option: expected one of …" without the value given): a choice that differs only in case named. */
function choiceWords(issue: Issue, given: unknown): string | null {
  if (issue.code !== "invalid_value" || given === undefined) return null;
  const choices = issue.values.map((v) => JSON.stringify(v));
  const cased = typeof given === "string" ? issue.values.find((v) => typeof v === "string" && v.toLowerCase() === given.toLowerCase()) : undefined;
  return `${JSON.stringify(given)} is not one of ${choices.join(", ")}${cased !== undefined ? ` (write ${JSON.stringify(cased)}: the names are case-sensitive)` : ""}`;
}

/** An empty text, and a whole number given with a fraction, in words (zod's own: "Too small:
 *  expected string to have >=1 characters", "Invalid input: expected int, received number"). */
function emptyWords(issue: Issue, given: unknown): string | null {
  if (issue.code === "too_small" && issue.origin === "string" && given === "") return '"" is empty; give a value';
  if (issue.code === "invalid_type" && issue.expected === "int" && typeof given === "number") return `${given} is not a whole number`;
  return null;
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = raw;
  for (const key of path) at = typeof at === "object" && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/** A unit for the quantity a field's name suggests (the examples of planner/units.ts), one the
 *  field itself reads: a duration in the run flags' units, a launch cost in µs, a buffer's size in
 *  bytes (a bare 40000000 for dataParallel.bucketSize is bytes, not 40000000 GiB); a GPU's memory
 *  in GiB. */
function unitLike(path: ReadonlyArray<PropertyKey>): string {
  const p = path.map(String).join(".");
  if (/bandwidth/i.test(p)) return "GB/s";
  if (/peak/i.test(p)) return "TFLOP/s";
  if (/power/i.test(p)) return "W";
  if (/restartTime/i.test(p)) return "min";
  if (/latency|perKernel|time/i.test(p)) return "us";
  if (/bucketSize|scalingState|Bytes/i.test(p)) return "B";
  return "GiB";
}
