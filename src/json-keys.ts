// A key given twice in one JSON object: JSON.parse keeps the last silently (ECMA-262 JSON.parse;
// RFC 8259 §4 leaves it to the reader), so {"num_hidden_layers": 32, …, "num_hidden_layers": 2}
// planned 2 layers. One pass over text JSON.parse has accepted (so well formed, and its depth
// already bounded by read-input.ts), every object's keys at every level.

/** The first key repeated within one object, as a path ("a.b", "list[].c"), or undefined. */
export function repeatedKey(text: string): string | undefined {
  // One frame per open object (its keys so far) or array (keys undefined).
  const stack: { keys: Set<string> | undefined; expectKey: boolean; path: string }[] = [];
  let lastKey = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.expectKey) {
        // Escapes decoded ("\u0061" and "a" are one key), as JSON.parse compares them.
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const path = parent === undefined ? "" : parent.keys !== undefined ? (parent.path ? `${parent.path}.${lastKey}` : lastKey) : `${parent.path}[]`;
      stack.push({ keys: ch === 0x7b ? new Set() : undefined, expectKey: ch === 0x7b, path });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) stack.pop();
    else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined) top.expectKey = true;
    }
  }
  return undefined;
}
