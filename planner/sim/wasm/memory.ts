// The engine's tables in linear memory (AssemblyScript): element i of an i32 or f64 table at byte
// offset `base` (wasm-run.ts lays the tables out). One copy for engine.ts, graph.ts and summary.ts,
// which compile into the same module; inlined where used.

@inline export function i32At(base: usize, i: i32): i32 {
  return load<i32>(base + (<usize>i << 2));
}
@inline export function setI32(base: usize, i: i32, v: i32): void {
  store<i32>(base + (<usize>i << 2), v);
}
@inline export function f64At(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}
@inline export function setF64(base: usize, i: i32, v: f64): void {
  store<f64>(base + (<usize>i << 3), v);
}
