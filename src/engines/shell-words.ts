// The words of a shell script, as bash splits a command line before it expands anything
// (bash manual §3.1.2 "Quoting", §3.5.7 "Word Splitting", §3.1.3 "Comments"): blanks and newlines
// separate words outside quotes; '…' and "…" quote (and may span lines); a backslash before a
// newline continues the line, before another character quotes it; # at a word's start comments
// out the rest of its line; ; ends a command. Nothing is expanded here: `$NAME` stays as text
// (args-file.ts substitutes the variables the script sets to a literal).

export interface ShellWord {
  /** The word with its quotes removed. */
  text: string;
  /** 1-based line of its first character. */
  line: number;
  /** `NAME=value` (the name unquoted, as bash recognises an assignment): the value, unquoted. */
  assign?: { name: string; value: string };
  /** The first word after an unescaped newline or ";": a new command starts (or an array's next
   *  line continues). */
  first?: true;
}

const ASSIGN = /^[A-Za-z_][A-Za-z0-9_]*=/;

export function shellWords(text: string): ShellWord[] {
  return scan(text).words;
}

/** The quote a script leaves open at its end, with the line it opened on, or undefined: bash
 *  refuses such a script ("unexpected EOF while looking for matching `\"'", §3.1.2), where
 *  shellWords would take the rest of the file as one word. A script with a here-document is not
 *  judged: its body is text, not words (§3.6.6), and shellWords does not know it. */
export function openQuote(text: string): { quote: string; line: number } | undefined {
  if (/<<-?\s*['"]?\w/.test(text)) return undefined;
  return scan(text).open;
}

function scan(text: string): { words: ShellWord[]; open?: { quote: string; line: number } } {
  const out: ShellWord[] = [];
  let opened = 0;
  let line = 1;
  let word: { text: string; raw: string; line: number } | null = null;
  let quote: '"' | "'" | null = null;
  let first = true;
  const end = () => {
    if (word === null) return;
    // An assignment's name is unquoted text up to the first "=" (bash §3.4).
    const eq = ASSIGN.exec(word.raw);
    const w: ShellWord = { text: word.text, line: word.line };
    if (eq) w.assign = { name: eq[0].slice(0, -1), value: word.text.slice(eq[0].length) };
    if (first) w.first = true;
    first = false;
    out.push(w);
    word = null;
  };
  const put = (c: string, raw = c) => {
    if (word === null) word = { text: "", raw: "", line };
    word.text += c;
    word.raw += raw;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else put(c, "'");
      if (c === "\n") line++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && text[i + 1] === "\n") {
        i++;
        line++;
      } else if (c === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\" || text[i + 1] === "$" || text[i + 1] === "`")) put(text[++i]!, '"');
      else {
        put(c, '"');
        if (c === "\n") line++;
      }
      continue;
    }
    if (c === "\\") {
      const next = text[i + 1];
      if (next === "\n") {
        i++;
        line++;
        continue;
      }
      if (next === undefined) continue;
      // A backslash with only blanks after it continues the line too (a slip bash would not
      // forgive, common in hand-edited arguments files).
      const rest = /^[ \t]*(\r?\n|$)/.exec(text.slice(i + 1));
      if ((next === " " || next === "\t") && rest) {
        i += rest[0].length;
        if (rest[1]) line++;
        continue;
      }
      put(text[++i]!, "\\");
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      opened = line;
      // An empty quoted word ("") is still a word.
      if (word === null) word = { text: "", raw: "", line };
      word.raw += c;
      continue;
    }
    // A command substitution, $( … ) or ` … `, is one piece of its word whatever blanks it holds
    // (bash §3.5.4): `n=$(nvidia-smi --query-gpu=name --format=csv | wc -l)` is one assignment,
    // its inner flags not the script's.
    if ((c === "$" && text[i + 1] === "(") || c === "`") {
      const start = i;
      if (c === "`") {
        i++;
        while (i < text.length && text[i] !== "`") i++;
      } else {
        let depth = 0;
        for (i++; i < text.length; i++) {
          if (text[i] === "(") depth++;
          else if (text[i] === ")" && --depth === 0) break;
        }
      }
      const piece = text.slice(start, i + 1);
      line += piece.split("\n").length - 1;
      put(piece);
      continue;
    }
    if (c === "#" && word === null) {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      end();
      continue;
    }
    if (c === "\n" || c === ";") {
      end();
      first = true;
      if (c === "\n") line++;
      continue;
    }
    put(c);
  }
  end();
  return { words: out, ...(quote !== null ? { open: { quote, line: opened } } : {}) };
}
