// The TOML subset reader and writer (toml.io v1.0.0 semantics for what it accepts).
import { describe, expect, it } from "vitest";
import { parseToml, writeToml } from "../../src/engines/toml.js";

describe("parseToml", () => {
  it("tables, dotted tables and keys, strings, numbers, booleans, multi-line arrays, comments", () => {
    const t = parseToml(
      [
        "# a job",
        'title = "a \\"quoted\\" \\u00e9 title"',
        "[training]  # comment after a header",
        "steps = 1_000",
        "lr = 3e-4",
        "eps = -1.5E-8",
        "mask = 0x1F",
        "compile = false",
        "path = 'C:\\raw\\path'",
        "[parallelism]",
        "data_parallel_shard_degree = -1",
        "split = [",
        '  "layers.4",  # first',
        '  "layers.8",',
        "]",
        'nested = [[1, 2], ["a"]]',
        "[a.b]",
        "c.d = true",
        "big = +inf",
      ].join("\n"),
      "job.toml",
    );
    expect(t).toEqual({
      title: 'a "quoted" é title',
      training: { steps: 1000, lr: 3e-4, eps: -1.5e-8, mask: 31, compile: false, path: "C:\\raw\\path" },
      parallelism: { data_parallel_shard_degree: -1, split: ["layers.4", "layers.8"], nested: [[1, 2], ["a"]] },
      a: { b: { c: { d: true }, big: Infinity } },
    });
  });

  it("CRLF line endings", () => {
    expect(parseToml('[job]\r\ndescription = "x"\r\n', "w.toml")).toEqual({ job: { description: "x" } });
  });

  const bad: [string, string][] = [
    ["[t]\nk = 1\nk = 2", "job.toml:3: \"k\" is set twice"],
    ["[t]\n[t]", "job.toml:2: table [t] is defined twice"],
    ["k = { a = 1 }", "inline tables are not supported"],
    ["[[jobs]]", "arrays of tables are not supported"],
    ['k = "open', "unterminated string"],
    ["k = yes", '"yes" is not a TOML value'],
    ["k = 1 2", "expected the end of the line"],
    ["k = 1979-05-27", "date-time values are not supported"],
    ["k = [1, 2", "expected , or ] in an array"],
  ];
  for (const [text, message] of bad)
    it(`refuses ${JSON.stringify(text)} naming the line`, () => {
      expect(() => parseToml(text, "job.toml")).toThrow(message);
    });
});

describe("writeToml", () => {
  it("what it writes parses back to the same values, comments and all", () => {
    const sections = [
      { name: "training", comment: ["batch settings"], values: { local_batch_size: 2, seq_len: 8192, mixed_precision_param: "bfloat16" } },
      { name: "parallelism", values: { enable_async_tensor_parallel: false, split: ["layers.10", "layers.20"] } },
    ];
    const text = writeToml(sections, ["header line"]);
    expect(text.startsWith("# header line\n\n# batch settings\n[training]\n")).toBe(true);
    expect(parseToml(text, "w.toml")).toEqual({ training: sections[0]!.values, parallelism: sections[1]!.values });
  });
});
