// Parse results as values: ok with the value, or a one-line message naming the field and the fix.
import type { z } from "zod";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function describePath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

/** The first zod issue as one line: `field "gpu.memory": expected string, received number`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid value";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `"${k}"`).join(", ");
    const where = issue.path.length ? ` in "${describePath(issue.path)}"` : "";
    return `unknown field ${keys}${where}; remove it or check its spelling`;
  }
  const field = issue.path.length ? `field "${describePath(issue.path)}"` : "the file";
  return `${field}: ${issue.message}`;
}
