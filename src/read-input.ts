// Reading a user's input file: a regular file of bounded size, read whole. A device (/dev/zero),
// a pipe or a directory given as --model, --profile, --engine, --from or --plan would block or
// grow without end; a file of gigabytes is no config. Either is one line naming the path.
import { readFileSync, statSync } from "node:fs";
import { repeatedKey } from "./json-keys.js";

/** The largest input file read, bytes: far above any config, argument file or profile. */
export const MAX_INPUT_BYTES = 16 * 2 ** 20;

/** The file's text, or why it cannot be read (a sentence without the path; empty where "check
 *  the path" says it: no such file, no permission). */
export function readInputText(path: string): { ok: true; text: string } | { ok: false; why: string; tooLarge?: true } {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { ok: false, why: st.isDirectory() ? "it is a directory" : "it is not a regular file" };
    size = st.size;
  } catch (e) {
    return { ok: false, why: (e as NodeJS.ErrnoException).code === "ELOOP" ? "a loop of symbolic links" : "" };
  }
  if (size > MAX_INPUT_BYTES) return { ok: false, tooLarge: true, why: `it is ${Math.ceil(size / 2 ** 20)} MiB, more than the ${MAX_INPUT_BYTES / 2 ** 20} MiB an input file may be` };
  try {
    return { ok: true, text: readFileSync(path, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, why: code === "EACCES" || code === "ENOENT" ? "" : (code ?? "unreadable") };
  }
}

/** " (why)" for a message, or nothing. */
export const because = (why: string) => (why === "" ? "" : ` (${why})`);

/** The message for a file readInputText could not read, `flag` naming where it was given: the path
 *  is to check unless the file was found and is too large (the path is right; the file is not a
 *  configuration). */
export const unreadable = (flag: string, path: string, r: { why: string; tooLarge?: true }) =>
  r.tooLarge ? `${flag} "${path}" is too large to read (${r.why}); no configuration is that large` : `${flag} "${path}" cannot be read${because(r.why)}; check the path`;

/** Deepest nesting an input JSON file may have: far beyond any profile, engine, model or
 *  ds_config (a handful of levels), short of the stack the readers' recursive walks use. */
export const MAX_JSON_DEPTH = 64;

/** Keys that would set an object's prototype where a reader copies the file's objects. */
const PROTO_KEYS = new Set(["__proto__"]);

/** Parse an input file's JSON text: malformed JSON, nesting deeper than MAX_JSON_DEPTH and a
 *  "__proto__" key are a sentence (without the path), not a value or a stack overflow later. */
export function parseInputJson(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  let value: unknown;
  try {
    // (a leading byte-order mark, as Windows editors write one, is no JSON; RFC 8259 §8.1 lets a
    // parser ignore it, and it made a valid file "malformed JSON (Unexpected token '\ufeff')")
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    return { ok: false, why: `malformed JSON (${(e as Error).message})` };
  }
  // Iterative walk: the check itself must not overflow.
  const stack: { v: unknown; depth: number; at: string }[] = [{ v: value, depth: 0, at: "" }];
  while (stack.length > 0) {
    const { v, depth, at } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_JSON_DEPTH) return { ok: false, why: `nested more than ${MAX_JSON_DEPTH} levels deep (at ${at.slice(0, 80)}…)` };
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, at: `${at}[${i}]` }));
    else
      for (const [k, x] of Object.entries(v)) {
        if (PROTO_KEYS.has(k)) return { ok: false, why: `a key "${k}"${at ? ` in ${at}` : ""}: not a field of any input file` };
        stack.push({ v: x, depth: depth + 1, at: at ? `${at}.${k}` : k });
      }
  }
  const dup = repeatedKey(text);
  if (dup !== undefined) return { ok: false, why: `the key "${dup}" is given twice in one object (a JSON reader would keep one of them silently)` };
  return { ok: true, value };
}
