// Reading a user's input file: a regular file of bounded size, read whole. A device (/dev/zero),
// a pipe or a directory given as --model, --profile, --engine, --from or --plan would block or
// grow without end; a file of gigabytes is no config. Either is one line naming the path.
import { readFileSync, statSync } from "node:fs";

/** The largest input file read, bytes: far above any config, argument file or profile. */
export const MAX_INPUT_BYTES = 16 * 2 ** 20;

/** The file's text, or why it cannot be read (a sentence without the path; empty where "check
 *  the path" says it: no such file, no permission). */
export function readInputText(path: string): { ok: true; text: string } | { ok: false; why: string } {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { ok: false, why: st.isDirectory() ? "it is a directory" : "it is not a regular file" };
    size = st.size;
  } catch {
    return { ok: false, why: "" };
  }
  if (size > MAX_INPUT_BYTES) return { ok: false, why: `it is ${Math.ceil(size / 2 ** 20)} MiB, more than the ${MAX_INPUT_BYTES / 2 ** 20} MiB an input file may be` };
  try {
    return { ok: true, text: readFileSync(path, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, why: code === "EACCES" || code === "ENOENT" ? "" : (code ?? "unreadable") };
  }
}

/** " (why)" for a message, or nothing. */
export const because = (why: string) => (why === "" ? "" : ` (${why})`);
