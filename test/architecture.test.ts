// Layers point one way: src (commands, UI) → src/app → executor → planner. Reads the imports of
// every source file (static `import … from`, `export … from`, side-effect `import "…"`, dynamic
// `import("…")`, as TypeScript's own pre-processor finds them) and checks the directions.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
const PACKAGES = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);

const isTest = (file: string) => /\.test\.tsx?$/.test(file);

/** Every .ts/.tsx file under a folder of the repository, as a path relative to the root. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split("\\").join("/"))
    .sort();
}

interface Import {
  spec: string;
  /** `import("…")`: loaded when the code runs, not with the module. */
  dynamic: boolean;
}

function importsOf(text: string): Import[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => ({ spec: f.fileName, dynamic: /\bimport\s*\(\s*["'`]?$/.test(text.slice(0, f.pos)) }));
}

type Target = { kind: "repo"; path: string } | { kind: "package"; name: string } | { kind: "node" } | { kind: "unknown"; spec: string };

/** Where an import specifier of `file` points: a repository path, an npm package, a built-in. */
function target(file: string, spec: string): Target {
  if (spec.startsWith(".")) return { kind: "repo", path: relative(ROOT, resolve(ROOT, dirname(file), spec)).split("\\").join("/") };
  if (spec.startsWith("node:") || builtinModules.includes(spec)) return { kind: "node" };
  const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
  return PACKAGES.has(name) ? { kind: "package", name } : { kind: "unknown", spec };
}

const read = new Map<string, Import[]>();
const importsOfFile = (file: string): Import[] => {
  if (!read.has(file)) read.set(file, importsOf(readFileSync(join(ROOT, file), "utf8")));
  return read.get(file)!;
};
const edges = (files: string[]) => files.flatMap((file) => importsOfFile(file).map(({ spec, dynamic }) => ({ file, spec, dynamic, to: target(file, spec) })));
/** The source file an import of a compiled path names ("x.js" → x.ts or x.tsx). */
function sourceOf(path: string): string | null {
  const base = path.replace(/\.js$/, "");
  for (const ext of [".ts", ".tsx"]) if (existsSync(join(ROOT, base + ext))) return base + ext;
  return null;
}
const UI_PACKAGES = /^(ink|ink-.+|react|react-.+|@types\/react)$/;
const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
const show = (e: { file: string; spec: string }) => `${e.file} imports "${e.spec}"`;

describe("the import parser", () => {
  it("finds static, re-exported, side-effect and dynamic imports, not comments or strings", () => {
    const text = [
      '// import a from "./commented.js";',
      'import type { A } from "./a.js";',
      'import {\n  b,\n} from "../b.js";',
      'import "./side.js";',
      'export { c } from "./c.js";',
      'export * from "./d.js";',
      'const s = "import(\\"./in-a-string.js\\")";',
      "const m = await import(\"./dynamic.js\");",
      'const n = x.import("./a-method.js");',
    ].join("\n");
    expect(importsOf(text).map((i) => i.spec)).toEqual(["./a.js", "../b.js", "./side.js", "./c.js", "./d.js", "./dynamic.js"]);
    expect(importsOf(text).filter((i) => i.dynamic).map((i) => i.spec)).toEqual(["./dynamic.js"]);
  });
});

describe("layers point one way", () => {
  const code = (dir: string) => sources(dir).filter((f) => !isTest(f));

  it("reads the source folders", () => {
    for (const dir of ["planner", "executor", "src", "src/ui/core"]) expect(code(dir).length, dir).toBeGreaterThan(5);
  });

  it("planner/ imports only planner/, npm packages and node built-ins", () => {
    const bad = edges(code("planner")).filter((e) => e.to.kind === "unknown" || (e.to.kind === "repo" && !under(e.to.path, "planner")));
    expect(bad.map(show)).toEqual([]);
  });

  it("executor/ never imports src/", () => {
    const bad = edges(code("executor")).filter((e) => e.to.kind === "unknown" || (e.to.kind === "repo" && under(e.to.path, "src")));
    expect(bad.map(show)).toEqual([]);
  });

  it("src/ui/core imports neither ink nor React, nor loads a module that does (its tests included)", () => {
    const bad: string[] = [];
    // Its own imports, dynamic ones included; then what they load with them (static imports).
    const starts = sources("src/ui/core");
    const from = new Map<string, string>(starts.map((f) => [f, f]));
    const queue = [...starts];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const start = from.get(file)!;
      for (const e of edges([file])) {
        if (file !== start && e.dynamic) continue;
        if (e.to.kind === "unknown" || (e.to.kind === "package" && UI_PACKAGES.test(e.to.name))) bad.push(file === start ? show(e) : `${show(e)} (loaded by ${start})`);
        if (e.to.kind !== "repo") continue;
        const next = sourceOf(e.to.path);
        if (next !== null && !from.has(next)) from.set(next, start), queue.push(next);
      }
    }
    expect(bad).toEqual([]);
  });

  it("executor/ imports, of the repository, only executor/ and planner/", () => {
    const bad = edges(code("executor")).filter((e) => e.to.kind === "repo" && !under(e.to.path, "executor") && !under(e.to.path, "planner"));
    expect(bad.map(show)).toEqual([]);
  });
});

describe("small files with one role", () => {
  // DEVELOPERS.md: "no file over 400 lines". Every tracked source of the fixed top-level folders,
  // tests and the Python worker included.
  const LIMIT = 400;
  const files = ["planner", "executor", "src", "bench", "test"].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && /\.(tsx?|py|sh)$/.test(e.name) && !e.parentPath.includes("node_modules") && !e.parentPath.includes(".venv") && !e.parentPath.includes("__pycache__"))
      .map((e) => relative(ROOT, join(e.parentPath, e.name)).split("\\").join("/")),
  );

  it("reads the sources, Python included", () => {
    expect(files.filter((f) => f.endsWith(".py")).length).toBeGreaterThan(5);
    expect(files.length).toBeGreaterThan(300);
  });

  it(`has no file over ${LIMIT} lines`, () => {
    const lines = (f: string) => readFileSync(join(ROOT, f), "utf8").replace(/\n$/, "").split("\n").length;
    expect(files.filter((f) => lines(f) > LIMIT).map((f) => `${f}: ${lines(f)} lines`)).toEqual([]);
  });
});
