// "Did you mean …?" for a mistyped flag or built-in name: the known words nearest by edit
// distance, offered only when close enough that the guess is likely the intent.

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, case ignored
 *  (optimal string alignment distance). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // d[i][j]: distance between the first i characters of s and the first j of t.
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++)
    for (let j = 1; j <= t.length; j++) {
      const same = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + same);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[s.length]![t.length]!;
}

/** The most edits a guess may be from the word typed: one for words up to four characters, two
 *  beyond (`fsdpp` → fsdp, `dgx-h10` → dgx-h100). */
const closeEnough = (word: string) => (word.length <= 4 ? 1 : 2);

/** The known words nearest to `word` (every one at the least distance, at most three), or none
 *  when the nearest is not close. A word that differs only in case is the one guess; then the close
 *  ones, and the words it begins (`--sweep` → --sweep-gpus; `h100` → h800, h100-96g-500w, h100-pcie). */
export function nearest(word: string, known: readonly string[]): string[] {
  const same = known.filter((k) => k.toLowerCase() === word.toLowerCase());
  if (same.length > 0) return same.slice(0, 1);
  let best = closeEnough(word);
  let found: string[] = [];
  for (const k of known) {
    const dist = editDistance(word, k);
    if (dist > best) continue;
    if (dist < best || found.length === 0) [best, found] = [dist, [k]];
    else found.push(k);
  }
  const begun = word.length >= 3 ? known.filter((k) => k.toLowerCase().startsWith(word.toLowerCase()) && !found.includes(k)) : [];
  return [...found, ...begun].slice(0, 3);
}

/** " (did you mean X?)" (or "X or Y?") with each guess written by `show`, or "". */
export function didYouMean(word: string, known: readonly string[], show: (k: string) => string = (k) => k): string {
  const guesses = nearest(word, known).map(show);
  if (guesses.length === 0) return "";
  const list = guesses.length > 1 ? `${guesses.slice(0, -1).join(", ")} or ${guesses[guesses.length - 1]}` : guesses[0];
  return ` (did you mean ${list}?)`;
}

/** The built-in `name` stands for: itself, or the one built-in it spells in another case
 *  (`--engine FSDP` is fsdp, as `--attention FUSED` is fused); itself where none matches, for the
 *  caller to refuse. */
export function builtinSpelling(name: string, known: readonly string[]): string {
  if (known.includes(name)) return name;
  const same = known.filter((k) => k.toLowerCase() === name.toLowerCase());
  return same.length === 1 ? same[0]! : name;
}
