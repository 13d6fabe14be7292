// The TOML subset torchtitan's job files use (TOML v1.0.0, toml.io): [tables] and [dotted.tables],
// bare or quoted keys (dotted keys too), and values that are basic or literal strings, integers
// (with _ separators, 0x/0o/0b), floats, booleans and arrays of these (multi-line, trailing
// comma). Inline tables, arrays of tables and date-times are refused by name. No TOML library is
// installed in this project, and paraplan adds no dependencies.
import { UserError } from "../errors.js";
import { MAX_JSON_DEPTH } from "../read-input.js";

export type TomlValue = string | number | boolean | TomlValue[];
export type TomlTable = { [key: string]: TomlValue | TomlTable };

class Cursor {
  i = 0;
  constructor(
    readonly s: string,
    readonly origin: string,
  ) {}
  line(): number {
    return this.s.slice(0, this.i).split("\n").length;
  }
  fail(what: string): never {
    throw new UserError(`${this.origin}:${this.line()}: ${what}; fix the TOML`);
  }
  peek(): string {
    return this.s[this.i] ?? "";
  }
  /** Skip spaces and tabs (and, when asked, newlines and comments). */
  skip(newlines = false): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) this.i++;
      else if (c === "#") while (this.i < this.s.length && this.peek() !== "\n") this.i++;
      else return;
    }
  }
}

const BARE = /[A-Za-z0-9_-]/;

function key(c: Cursor): string[] {
  const parts: string[] = [];
  for (;;) {
    c.skip();
    const q = c.peek();
    if (q === '"' || q === "'") parts.push(str(c));
    else {
      const start = c.i;
      while (BARE.test(c.peek())) c.i++;
      if (c.i === start) c.fail("expected a key");
      parts.push(c.s.slice(start, c.i));
    }
    c.skip();
    if (c.peek() !== ".") return parts;
    c.i++;
  }
}

const ESCAPES: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\" };

function str(c: Cursor): string {
  const q = c.peek();
  if (c.s.startsWith(q.repeat(3), c.i)) c.fail("multi-line strings are not supported");
  c.i++;
  let out = "";
  for (;;) {
    const ch = c.peek();
    if (ch === "" || ch === "\n") c.fail("unterminated string");
    c.i++;
    if (ch === q) return out;
    if (q === '"' && ch === "\\") {
      const e = c.peek();
      c.i++;
      if (e === "u" || e === "U") {
        const len = e === "u" ? 4 : 8;
        const hex = c.s.slice(c.i, c.i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) c.fail("bad unicode escape");
        out += String.fromCodePoint(parseInt(hex, 16));
        c.i += len;
      } else if (ESCAPES[e] !== undefined) out += ESCAPES[e];
      else c.fail(`unknown escape \\${e}`);
    } else out += ch;
  }
}

function scalar(c: Cursor): number | boolean {
  const start = c.i;
  while (/[A-Za-z0-9_.+:-]/.test(c.peek())) c.i++;
  const tok = c.s.slice(start, c.i);
  if (tok === "true") return true;
  if (tok === "false") return false;
  if (/^[+-]?(inf|nan)$/.test(tok)) return tok.includes("nan") ? NaN : tok.startsWith("-") ? -Infinity : Infinity;
  if (/^0x[0-9a-fA-F_]+$|^0o[0-7_]+$|^0b[01_]+$/.test(tok)) return Number(tok.replace(/_/g, ""));
  if (/^[+-]?\d[\d_]*$/.test(tok)) return Number(tok.replace(/_/g, ""));
  if (/^[+-]?\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d[\d_]*)?$/.test(tok)) return Number(tok.replace(/_/g, ""));
  if (/^\d{4}-\d{2}-\d{2}/.test(tok)) c.fail(`date-time values are not supported (${tok})`);
  return c.fail(tok === "" ? "expected a value" : `"${tok}" is not a TOML value`);
}

function value(c: Cursor, depth = 0): TomlValue {
  const ch = c.peek();
  if (ch === '"' || ch === "'") return str(c);
  if (ch === "{") c.fail("inline tables are not supported");
  if (ch !== "[") return scalar(c);
  // (arrays within arrays, each a call: bounded as JSON inputs are, not left to the stack)
  if (depth >= MAX_JSON_DEPTH) c.fail(`arrays nested more than ${MAX_JSON_DEPTH} levels deep`);
  c.i++;
  const items: TomlValue[] = [];
  for (;;) {
    c.skip(true);
    if (c.peek() === "]") {
      c.i++;
      return items;
    }
    items.push(value(c, depth + 1));
    c.skip(true);
    if (c.peek() === ",") c.i++;
    else if (c.peek() !== "]") c.fail("expected , or ] in an array");
  }
}

function descend(root: TomlTable, path: string[], c: Cursor): TomlTable {
  let t = root;
  for (const k of path) {
    const next = t[k] ?? (t[k] = {});
    if (typeof next !== "object" || Array.isArray(next)) c.fail(`"${path.join(".")}" is already a value`);
    t = next as TomlTable;
  }
  return t;
}

export function parseToml(text: string, origin: string): TomlTable {
  const c = new Cursor(text, origin);
  const root: TomlTable = {};
  const defined = new Set<string>();
  let table = root;
  for (;;) {
    c.skip(true);
    if (c.i >= text.length) return root;
    if (c.peek() === "[") {
      if (c.s.startsWith("[[", c.i)) c.fail("arrays of tables are not supported");
      c.i++;
      const path = key(c);
      if (c.peek() !== "]") c.fail("expected ] after the table name");
      c.i++;
      const name = path.join(".");
      if (defined.has(name)) c.fail(`table [${name}] is defined twice`);
      defined.add(name);
      table = descend(root, path, c);
    } else {
      const path = key(c);
      if (c.peek() !== "=") c.fail(`expected = after ${path.join(".")}`);
      c.i++;
      c.skip();
      const v = value(c);
      const last = path.pop()!;
      const into = descend(table, path, c);
      if (last in into) c.fail(`"${[...path, last].join(".")}" is set twice`);
      into[last] = v;
    }
    c.skip();
    if (c.i < text.length && c.peek() !== "\n") c.fail("expected the end of the line");
  }
}

function render(v: TomlValue): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(render).join(", ")}]`;
  return String(v);
}

/** One level of tables: each section's keys in insertion order. Comments go before a section. */
export function writeToml(sections: { name: string; comment?: string[]; values: Record<string, TomlValue> }[], header: string[]): string {
  const out = header.map((l) => `# ${l}`);
  for (const s of sections) {
    out.push("", ...(s.comment ?? []).map((l) => `# ${l}`), `[${s.name}]`);
    for (const [k, v] of Object.entries(s.values)) {
      // An array of arrays (module_fqns_per_model_part) one inner array a line (TOML arrays may
      // span lines and end in a comma, toml.io v1.0.0 "Array").
      if (Array.isArray(v) && v.length > 0 && v.every(Array.isArray)) out.push(`${k} = [`, ...v.map((x) => `  ${render(x)},`), "]");
      else out.push(`${k} = ${render(v)}`);
    }
  }
  return out.join("\n") + "\n";
}
