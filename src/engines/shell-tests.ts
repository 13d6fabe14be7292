// The test of a launch script's `if`, decided where the script's own literals decide it (bash
// manual §6.4 "Bash Conditional Expressions", §6.5 "Shell Arithmetic", §3.2.4 "Lists of
// Commands"): string tests (`=`, `==`, `!=`, `-z`, `-n`) and integer comparisons (`-eq -ne -gt -ge
// -lt -le` in `[ ]` and `[[ ]]`, `== != > >= < <=` in `(( ))`) of literals and variables the
// script sets to one (args-file.ts expands them). Anything else is undecided (null): read as if
// its first branch runs, and said.

/** A word as `expand` leaves it: "$…" where its value is not known. */
type Expand = (w: string) => string;

const INTEGER_OPS: Record<string, (a: number, b: number) => boolean> = {
  "-eq": (a, b) => a === b, "-ne": (a, b) => a !== b, "-gt": (a, b) => a > b,
  "-ge": (a, b) => a >= b, "-lt": (a, b) => a < b, "-le": (a, b) => a <= b,
};
const ARITHMETIC_OPS: Record<string, string> = { "==": "-eq", "!=": "-ne", ">": "-gt", ">=": "-ge", "<": "-lt", "<=": "-le" };

/** An operand of an integer comparison: a decimal integer; in an arithmetic context (`[[ ]]`,
 *  `(( ))`) a bare NAME is the variable's value too. A leading 0 is octal there and an error in
 *  neither form bash accepts here: undecided (undefined), as is anything else. */
function integer(word: string, expand: Expand, arithmetic: boolean): number | undefined {
  let v = expand(word);
  if (arithmetic && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) v = expand(`$${v}`);
  if (!/^-?\d+$/.test(v)) return undefined;
  if (arithmetic && /^-?0\d/.test(v)) return undefined;
  return Number(v);
}

function compare(a: string, op: string, b: string, expand: Expand, arithmetic: boolean): boolean | null {
  const [x, y] = [integer(a, expand, arithmetic), integer(b, expand, arithmetic)];
  return x === undefined || y === undefined ? null : INTEGER_OPS[op]!(x, y);
}

/** One test: `[ … ]`, `[[ … ]]`, `(( A op B ))`, `true` or `false`; true, false, or null where undecided (a
 *  `[[ == ]]` pattern with * ? or [ is not decided). */
function decideOne(test: readonly string[], expand: Expand): boolean | null {
  const joined = test.join(" ");
  // The builtins `true`, `:` and `false` (bash §4.1, §4.2).
  if (joined === "true" || joined === ":") return true;
  if (joined === "false") return false;
  const arith = /^\(\(\s*(\S+?)\s*(==|!=|>=|<=|>|<)\s*(\S+?)\s*\)\)$/.exec(joined);
  if (arith) return compare(arith[1]!, ARITHMETIC_OPS[arith[2]!]!, arith[3]!, expand, true);
  const close = test[test.length - 1];
  const t = (test[0] === "[" && close === "]") || (test[0] === "[[" && close === "]]") ? test.slice(1, -1) : null;
  if (t && t.length === 2 && (t[0] === "-z" || t[0] === "-n")) {
    const a = expand(t[1]!);
    return a.includes("$") ? null : (a === "") === (t[0] === "-z");
  }
  if (!t || t.length !== 3) return null;
  if (t[1]! in INTEGER_OPS) return compare(t[0]!, t[1]!, t[2]!, expand, test[0] === "[[");
  if (!["=", "==", "!="].includes(t[1]!)) return null;
  const [a, b] = [expand(t[0]!), expand(t[2]!)];
  if (a.includes("$") || b.includes("$") || (test[0] === "[[" && /[*?[]/.test(b))) return null;
  return t[1] === "!=" ? a !== b : a === b;
}

/** A test list, `T1 || T2 && T3` (bash §3.2.4: left to right, equal precedence), each test
 *  decided or not (null); a list is decided where its undecided tests cannot change it
 *  (`true || ?` is true, `false && ?` false). */
export function decideTest(test: readonly string[], expand: Expand): boolean | null {
  const parts: string[][] = [[]];
  const ops: string[] = [];
  for (const w of test) {
    if (w === "||" || w === "&&") {
      ops.push(w);
      parts.push([]);
    } else parts[parts.length - 1]!.push(w);
  }
  let v = decideOne(parts[0]!, expand);
  ops.forEach((op, i) => {
    const r = decideOne(parts[i + 1]!, expand);
    v = op === "||" ? (v === true || r === true ? true : v === false && r === false ? false : null) : v === false || r === false ? false : v === true && r === true ? true : null;
  });
  return v;
}
