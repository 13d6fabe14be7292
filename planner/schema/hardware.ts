// Hardware profile files → Hardware (plain SI numbers). Every figure may carry its source:
// { "value": "300 GB/s", "source": "NVIDIA DGX A100 user guide" }, or be a bare value.
import type { z } from "zod";
import type { Hardware, Link } from "../types.js";
import type { RunFigures } from "../run/types.js";
import { RUN_LIMITS, giveWithin, outsideLimit } from "../run/limits.js";
import { type MagnitudeRule, parseMagnitude } from "./magnitude.js";
import { DURATION_UNITS, parseDuration } from "../run/parse.js";
import type { Quantity } from "../units.js";
import { type Parsed, firstIssue } from "./result.js";
import { lazySchemas } from "./zod.js";
import { powerThrottle } from "../power.js";
import { type FabricIn, fabricSchema, resolveFabric } from "./fabric.js";
import { figureReader, type FigureIn } from "./figure.js";
import { MODEL_BOUNDS, boundedCount } from "./bounds.js";
import { LATENCY_MAX, PLAUSIBLE, type Range, implausible, saidRange, showBound } from "./plausible.js";
import { inconsistentFigure } from "./consistency.js";
export { mergeProfiles, resolveExtends } from "./extends.js";

const schemas = lazySchemas((z) => {
  const withSource = <T extends z.ZodTypeAny>(value: T) => z.union([value, z.object({ value, source: z.string().min(1) }).strict()]);

  const quantity = withSource(z.string().min(1));
  const fraction = withSource(z.number().gt(0).lte(1));

  const link = z
    .object({
      kind: z.enum(["nvlink", "pcie", "infinity-fabric"]).optional(),
      bandwidth: quantity,
      latency: quantity,
      collectiveEfficiency: fraction,
    })
    .strict();

  const hardwareFile = z
    .object({
      $schema: z.string().optional(),
      name: z.string().min(1),
      description: z.string().optional(),
      extends: z.string().optional(),
      measured: z.boolean().optional(),
      measuredOn: z.string().optional(),
      versions: z.record(z.string(), z.string()).optional(),
      measuredFields: z.array(z.string()).optional(),
      gpu: z
        .object({
          name: z.string().min(1),
          memory: quantity,
          memoryBandwidth: quantity,
          memoryBandwidthEfficiency: fraction,
          peak: z
            .object({ bf16: quantity, fp16: quantity, fp8: z.union([quantity, z.null()]), tf32: quantity })
            .strict(),
          matmulEfficiency: z
            .object({
              source: z.string().min(1),
              points: z.array(z.tuple([z.number().positive(), z.number().gt(0).lte(1)])).min(1),
            })
            .strict(),
          attentionEfficiency: fraction,
          // fp8 GEMMs' efficiency relative to the 16-bit table at the same FLOPs (absent: 1).
          fp8Efficiency: fraction.optional(),
          reserve: quantity,
          fragmentation: withSource(z.number().min(0).lt(1)),
          // Watts: the board power limit the part runs at, and the rating its efficiency data
          // was measured at (planner/power.ts derates compute by their ratio).
          // (watts as a bare number, or with their unit as the run section's powers: "500 W")
          powerLimit: withSource(z.union([z.number().positive(), z.string().min(1)])).optional(),
          ratedPower: withSource(z.union([z.number().positive(), z.string().min(1)])).optional(),
          // CPU ranks: the host runs each op itself, so there is no queue for a launch bound.
          hostRunsOps: withSource(z.boolean()).optional(),
        })
        .strict(),
      node: z
        .object({
          // (the --gpus bound: with no --gpus and no model count, one node is the cluster)
          gpusPerNode: withSource(boundedCount(z, MODEL_BOUNDS.gpus)),
          link: link.extend({ kind: z.enum(["nvlink", "pcie", "infinity-fabric"]) }).strict(),
        })
        .strict(),
      network: link.omit({ kind: true }).strict(),
      fabric: fabricSchema(z, withSource).optional(),
      run: z
        .object({
          boardPower: quantity.optional(),
          nodePower: quantity.optional(),
          // (its bounds, RUN_LIMITS.pue, checked with the others below: as --pue's)
          pue: withSource(z.number()).optional(),
          // (its bounds, RUN_LIMITS.failuresPerGpuHour, checked with the others below)
          failuresPerGpuHour: withSource(z.number()).optional(),
          checkpointBandwidth: quantity.optional(),
          stagingBandwidth: quantity.optional(),
          restartTime: quantity.optional(),
        })
        .strict()
        .optional(),
    })
    .strict();
  return { link, hardwareFile };
});

/** The hardware profile file format. */
export const hardwareFileSchema = () => schemas().hardwareFile;

type LinkFile = z.infer<ReturnType<typeof schemas>["link"]>;


/** `own`: the file as written, before its `extends` was merged (absent: `raw` itself), so that a
 *  contradiction between figures names the one the file set (./consistency.ts). */
export function parseHardwareFile(raw: unknown, origin: string, own: unknown = raw): Parsed<Hardware> {
  const r = schemas().hardwareFile.safeParse(raw);
  if (!r.success) return { ok: false, message: `${origin}: ${missingWords(firstIssue(r.error, raw))}` };
  const f = r.data;
  const sources: Record<string, string> = {};
  const errors: string[] = [];

  const fig = figureReader(origin, sources);
  // Each figure as written, for the messages of ./plausible.ts.
  const written: Record<string, unknown> = {};
  // (zero, a sign, a bare number and one past a double's range said as such: ./magnitude.ts)
  function q(path: string, x: FigureIn<string>, kind: Quantity, rule: MagnitudeRule = {}): number {
    // (each field's range said with what is wrong: ./plausible.ts saidRange)
    const range = saidRange(path);
    const p = parseMagnitude((written[path] = fig(path, x)), kind, range ? { range, ...rule } : rule);
    if (!p.ok) errors.push(`field "${path}": ${p.message}`);
    return p.ok ? p.value : NaN;
  }
  // A duration as the run flags read one (--restart-time: "10 min", "1 day", "30d").
  function duration(path: string, x: FigureIn<string>): number {
    const p = parseDuration((written[path] = fig(path, x)), DURATION_UNITS, true, '"10 min"');
    if (!p.ok) errors.push(`field "${path}": ${p.message}`);
    return p.ok ? p.value : NaN;
  }
  function link(path: string, l: LinkFile, kind: Link["kind"]): Link {
    return {
      kind,
      bandwidth: q(`${path}.bandwidth`, l.bandwidth, "bytes/s"),
      latency: q(`${path}.latency`, l.latency, "seconds", { zero: true }),
      efficiency: fig(`${path}.collectiveEfficiency`, l.collectiveEfficiency),
    };
  }

  const g = f.gpu;
  sources["gpu.matmulEfficiency"] = g.matmulEfficiency.source;
  // A power-capped part: matmul and attention efficiencies derated by the clock it sustains.
  const watts = (path: string, x: FigureIn<number | string>): number => {
    const v = (written[path] = fig(path, x));
    const w = typeof v === "number" ? v : q(path, v, "watts");
    if (!(w > 0) && !Number.isNaN(w)) errors.push(`field "${path}": must be above zero`);
    return w;
  };
  const powerLimit = g.powerLimit === undefined ? undefined : watts("gpu.powerLimit", g.powerLimit);
  const ratedPower = g.ratedPower === undefined ? undefined : watts("gpu.ratedPower", g.ratedPower);
  // The cap derates only against the power the efficiency figures were measured at: one without
  // the other changed nothing (a 500 W part extending dgx-h100 was priced at 700 W's clocks).
  // (a value that does not read is said first: "0" alone was told to add gpu.ratedPower)
  if ((g.powerLimit === undefined) !== (g.ratedPower === undefined)) {
    const [given, needed] = g.powerLimit !== undefined ? ["powerLimit", "ratedPower"] : ["ratedPower", "powerLimit"];
    if (errors.length) return { ok: false, message: `${origin}: ${errors[0]}` };
    return { ok: false, message: `${origin}: field "gpu.${given}" needs "gpu.${needed}" beside it (watts: the cap the part runs at and the power its efficiency figures were measured at, 700 for dgx-h100's); alone it changes nothing` };
  }
  const throttle = powerLimit !== undefined && ratedPower !== undefined ? powerThrottle(powerLimit, ratedPower) : 1;
  const points = [...g.matmulEfficiency.points].sort((a, b) => a[0] - b[0]).map(([x, e]) => [x, e * throttle] as [number, number]);
  const attention = fig("gpu.attentionEfficiency", g.attentionEfficiency);
  // (a peak of 0 is a precision the part lacks, written null)
  const peak = (k: "bf16" | "fp16" | "fp8" | "tf32", x: FigureIn<string>) => q(`gpu.peak.${k}`, x, "FLOP/s", { tail: ", or null for a precision the GPU lacks" });
  const hw: Hardware = {
    name: f.name,
    gpuName: g.name,
    memory: q("gpu.memory", g.memory, "bytes"),
    memoryBandwidth: q("gpu.memoryBandwidth", g.memoryBandwidth, "bytes/s"),
    memoryBandwidthEfficiency: fig("gpu.memoryBandwidthEfficiency", g.memoryBandwidthEfficiency),
    peak: {
      bf16: peak("bf16", g.peak.bf16),
      fp16: peak("fp16", g.peak.fp16),
      fp8: g.peak.fp8 === null ? null : peak("fp8", g.peak.fp8),
      tf32: peak("tf32", g.peak.tf32),
    },
    matmul: { source: g.matmulEfficiency.source, points },
    attentionEfficiency: attention * throttle,
    reserve: q("gpu.reserve", g.reserve, "bytes", { zero: true }),
    fragmentation: fig("gpu.fragmentation", g.fragmentation),
    gpusPerNode: fig("node.gpusPerNode", f.node.gpusPerNode),
    intra: link("node.link", f.node.link, f.node.link.kind),
    inter: link("network", f.network, "network"),
    measured: f.measured ?? false,
    ...(f.run ? { run: runFigures(f.run, fig, q, duration) } : {}),
    sources,
  };
  if (powerLimit !== undefined) hw.powerLimit = powerLimit;
  if (throttle !== 1) hw.computeThrottle = throttle;
  if (g.fp8Efficiency !== undefined) hw.fp8Efficiency = fig("gpu.fp8Efficiency", g.fp8Efficiency);
  if (g.hostRunsOps !== undefined && fig("gpu.hostRunsOps", g.hostRunsOps)) hw.hostRunsOps = true;
  if (f.fabric) {
    const fabric = resolveFabric(f.fabric as FabricIn, hw.gpusPerNode, fig, (path, x) => q(path, x, "seconds", { zero: true }));
    if (typeof fabric === "string") return { ok: false, message: `${origin}: ${fabric}` };
    hw.fabric = fabric;
  }
  if (errors.length) return { ok: false, message: `${origin}: ${errors[0]}` };
  // Every figure a time or a capacity divides by (a zero fp16 peak priced fp16 steps at NaN).
  const positive: Array<[string, number | null]> = [
    ["gpu.memory", hw.memory], ["gpu.memoryBandwidth", hw.memoryBandwidth], ["gpu.peak.bf16", hw.peak.bf16], ["gpu.peak.fp16", hw.peak.fp16],
    ["gpu.peak.fp8", hw.peak.fp8], ["gpu.peak.tf32", hw.peak.tf32], ["node.link.bandwidth", hw.intra.bandwidth], ["network.bandwidth", hw.inter.bandwidth],
  ];
  const zero = positive.find(([, v]) => v !== null && !(v > 0));
  if (zero) return { ok: false, message: `${origin}: field "${zero[0]}" must be positive${zero[0].startsWith("gpu.peak.") ? " (a precision the GPU lacks: null)" : ""}` };
  // Link figures beyond any real fabric (the fastest NVLink moves 900 GB/s a GPU each way, a hop's
  // latency is microseconds: shared/reference/hardware-2026.md) are a unit slip, not a machine.
  for (const [path, l] of [["node.link", hw.intra], ["network", hw.inter]] as const) {
    if (l.bandwidth > 100e12) return { ok: false, message: `${origin}: field "${path}.bandwidth" is above 100 TB/s, beyond any link (a unit slip?)` };
    if (!(l.latency >= 0) || l.latency > LATENCY_MAX) return { ok: false, message: `${origin}: field "${path}.latency" must be from 0 to 10 ms a hop (links take microseconds)` };
  }
  // The fabric's tiers as the links: "10 s" for an NVLS reduction's 25 us was priced, every
  // collective in the domain seconds long.
  const tiers = hw.fabric ? ([["nvls", hw.fabric.nvls], ["leaf", hw.fabric.leaf], ["sharp", hw.fabric.sharp]] as const) : [];
  for (const [tier, t] of tiers)
    if (t && t.latency > LATENCY_MAX) return { ok: false, message: `${origin}: field "fabric.${tier}.latency" must be from 0 to 10 ms a hop (links take microseconds)` };
  const wrong = implausibleFigure(hw, g.matmulEfficiency.points, attention, written, powerLimit, ratedPower);
  if (wrong) return { ok: false, message: `${origin}: ${wrong}` };
  // NVLink and Infinity Fabric are rated in bytes a second (NVLink 4: 900 GB/s total, 450 GB/s each
  // way; xGMI 128 GB/s a link: hardware.md, hardware-2026.md); a figure in bits is the NIC's unit
  // slipped in ("900 Gb/s" loaded as 112.5 GB/s, an eighth of the link, and priced every tp group).
  const intraWritten = written["node.link.bandwidth"];
  if ((hw.intra.kind === "nvlink" || hw.intra.kind === "infinity-fabric") && typeof intraWritten === "string" && /[0-9.]\s*[kMGT]?(b|bit|bits)\/s\s*$/.test(intraWritten))
    return { ok: false, message: `${origin}: field "node.link.bandwidth": "${intraWritten}" is in bits; ${hw.intra.kind === "nvlink" ? "NVLink" : "Infinity Fabric"} is rated in bytes, each way (NVLink 4: 450 GB/s): write it like "450 GB/s" (B, not b)` };
  const contradiction = inconsistentFigure(hw, written, own);
  if (contradiction) return { ok: false, message: `${origin}: ${contradiction}` };
  // (each as the file wrote it: "100 GiB" of "81559 MiB", not 107374182400 bytes of 85520809984)
  if (hw.reserve >= hw.memory) return { ok: false, message: `${origin}: field "gpu.reserve" (${String(written["gpu.reserve"])}) leaves nothing of "gpu.memory" (${String(written["gpu.memory"])}); the reserve is what the CUDA context, NCCL and cuBLAS hold of it, about 2 GiB` };
  for (let i = 1; i < points.length; i++)
    if (points[i]![0] === points[i - 1]![0]) return { ok: false, message: `${origin}: field "gpu.matmulEfficiency.points": two points at ${points[i]![0]} FLOPs` };
  for (const k of ["boardPower", "nodePower"] as const)
    if (hw.run?.[k] !== undefined && !(hw.run[k]! > 0)) return { ok: false, message: `${origin}: field "run.${k}" must be above zero` };
  // The same bounds as the flags that override them (--pue, --restart-time, --ckpt-bandwidth):
  // a figure one refuses is not taken from the other (planner/run/limits.ts).
  // (the bandwidths within theirs as they are read, as --ckpt-bandwidth's: runFigures)
  for (const k of ["pue", "failuresPerGpuHour", "restartTime"] as const) {
    const v = hw.run?.[k];
    const wrong = v === undefined ? null : outsideLimit(v, RUN_LIMITS[k]);
    const shown = k === "restartTime" ? `"${String(written[`run.${k}`])}"` : String(v);
    if (wrong) return { ok: false, message: `${origin}: field "run.${k}": ${shown} ${wrong}; ${giveWithin(RUN_LIMITS[k])}` };
  }
  return { ok: true, value: hw };
}

/** How gpu.matmulEfficiency is written: GEMM FLOPs (2mnk) → the fraction of the peak reached. */
const MATMUL_TABLE = 'the GEMM efficiency as a table of [FLOPs of one GEMM, fraction of peak] points, like {"points": [[1e9, 0.3], [1e12, 0.7]], "source": "…"}, or a calibrated part\'s, {"sameAs": "dgx-h100", "source": "…"}';

/** A missing field told what to write (it was `field "gpu.memory": missing` alone): a quantity its
 *  range and an example, any field the built-in profile to extend for the figures left out. */
function missingWords(message: string): string {
  // gpu.matmulEfficiency is a table, not one fraction as its neighbours: a bare 0.7, or a figure's
  // { "value", "source" }, was told zod's "expected object, received number" or "points: missing".
  const table = /^field "gpu\.matmulEfficiency(?:\.points)?": (?:missing$|Invalid input: expected (?:object|array), received (\w+))/.exec(message);
  if (table?.[1] !== undefined) return `field "gpu.matmulEfficiency": a ${table[1]} where a table is read; give ${MATMUL_TABLE}`;
  const path = /^field "([^"]+)": missing$/.exec(message)?.[1];
  if (path === undefined) return message;
  // A figure's { "value" } without its "source": the file's own (it may extend dgx-h100 already),
  // said as an engine file's is (engine-quantities.ts), not "add it (or extends …)"; QA.
  // (the matmul table has no bare form: its "points" always carry their source)
  const points = path === "gpu.matmulEfficiency.source";
  if (path.endsWith(".source")) return `${message}; every figure says where it comes from: add "source" beside its ${points ? '"points"' : '"value"'} (a datasheet, a measurement, or "prior: …" and why)${points ? "" : ", or write the bare value"}`;
  const range = saidRange(path);
  const give = table ? `give ${MATMUL_TABLE}` : range ? `give ${range.what} ${range.words}${path.startsWith("gpu.peak.") ? ", or null for a precision the GPU lacks" : ""}` : "add it";
  return `${message}; ${give} (or "extends": "dgx-h100", a built-in profile, for every figure the file leaves out)`;
}

/** The first figure outside its plausible range (./plausible.ts), or a cap above the rating. The
 *  efficiencies are the file's, before a cap derates them. */
function implausibleFigure(hw: Hardware, points: readonly [number, number][], attention: number, written: Record<string, unknown>, powerLimit?: number, ratedPower?: number): string | null {
  if (hw.inter.bandwidth > PLAUSIBLE.network.max)
    return `field "network.bandwidth": ${String(written["network.bandwidth"])} is above ${showBound(PLAUSIBLE.network.max, "bytes/s")} (1.6 Tb/s) per GPU, twice the fastest NIC shipping (800 Gb/s); NICs are rated in bits: write it like "400 Gb/s"`;
  const checks: Array<[string, number | null | undefined, unknown, Range]> = [
    ["gpu.memory", hw.memory, written["gpu.memory"], PLAUSIBLE.memory],
    ["gpu.memoryBandwidth", hw.memoryBandwidth, written["gpu.memoryBandwidth"], PLAUSIBLE.memoryBandwidth],
    ...(["bf16", "fp16", "fp8", "tf32"] as const).map((k): [string, number | null, unknown, typeof PLAUSIBLE.peak] => [`gpu.peak.${k}`, hw.peak[k], written[`gpu.peak.${k}`], PLAUSIBLE.peak]),
    ["gpu.powerLimit", powerLimit, written["gpu.powerLimit"], PLAUSIBLE.power],
    ["gpu.ratedPower", ratedPower, written["gpu.ratedPower"], PLAUSIBLE.power],
    ...points.map(([f, e]): [string, number, unknown, typeof PLAUSIBLE.efficiency] => ["gpu.matmulEfficiency.points", e, `${e} (at ${f} FLOPs)`, PLAUSIBLE.efficiency]),
    ["gpu.attentionEfficiency", attention, attention, PLAUSIBLE.efficiency],
    ["gpu.memoryBandwidthEfficiency", hw.memoryBandwidthEfficiency, hw.memoryBandwidthEfficiency, PLAUSIBLE.efficiency],
    ["gpu.fp8Efficiency", hw.fp8Efficiency, hw.fp8Efficiency, PLAUSIBLE.efficiency],
    ["node.link.bandwidth", hw.intra.bandwidth, written["node.link.bandwidth"], PLAUSIBLE.nodeLink],
    ["network.bandwidth", hw.inter.bandwidth, written["network.bandwidth"], PLAUSIBLE.network],
    // A whole-run figure priced the energy 1000× off in the wrong prefix ("700 kW" a board).
    ["run.boardPower", hw.run?.boardPower, written["run.boardPower"], PLAUSIBLE.power],
    ["run.nodePower", hw.run?.nodePower, written["run.nodePower"], PLAUSIBLE.nodePower],
  ];
  for (const [path, v, w, r] of checks) {
    const m = v === null || v === undefined ? null : implausible(path, v, w, r);
    if (m) return m;
  }
  // Every part with an fp8 peak runs it at twice its dense 16-bit rate (H100 1979 of 989, B200 4500
  // of 2250, MI300X 2614.9 of 1307.4, L40S 733 of 362 TFLOP/s: the datasheets, hardware-2026.md), and
  // fp16 at bf16's. A 16-bit peak at or above fp8's is the sparse (2:4) figure printed beside the
  // dense one, twice it (H100's "1979 TFLOP/s" bf16 sparse), which priced every step 2× fast.
  const sparse = "datasheets print the sparse (2:4) figure, twice the dense one, beside it: give the dense";
  if (hw.peak.fp8 !== null)
    for (const k of ["bf16", "fp16"] as const)
      if (hw.peak[k] >= hw.peak.fp8) return `field "gpu.peak.${k}" (${String(written[`gpu.peak.${k}`])}) is not below "gpu.peak.fp8" (${String(written["gpu.peak.fp8"])}): fp8 runs at twice the 16-bit rate; ${sparse}`;
  // fp16 and bf16 share the tensor cores of every part with fp8; before fp8 the MI100's bf16 was
  // half its fp16 (92.3 of 184.6 TFLOP/s), so a factor of 2 is the bound there.
  const [lo, hi] = [Math.min(hw.peak.bf16, hw.peak.fp16), Math.max(hw.peak.bf16, hw.peak.fp16)];
  if (hi > lo * (hw.peak.fp8 !== null ? 1.1 : 2))
    return `field "gpu.peak.bf16" (${String(written["gpu.peak.bf16"])}) and "gpu.peak.fp16" (${String(written["gpu.peak.fp16"])}) differ by more than ${hw.peak.fp8 !== null ? "10%" : "2×"}: ${hw.peak.fp8 !== null ? "the two run on the same tensor cores at the same rate" : "no part differs more"}; ${sparse}`;
  // planner/power.ts derates only below the rating; a board cannot be set above its rated power,
  // so a cap above it is no cap (it was priced as the rating) and a rating below the cap a slip.
  const w = (path: string) => (typeof written[path] === "number" ? `${written[path]} W` : String(written[path]));
  if (powerLimit !== undefined && ratedPower !== undefined && powerLimit > ratedPower)
    return `field "gpu.powerLimit" (${w("gpu.powerLimit")}) is above "gpu.ratedPower" (${w("gpu.ratedPower")}): a board cannot be set above its rated power, so it is no cap`;
  return null;
}

type RunFile = NonNullable<z.infer<ReturnType<typeof schemas>["hardwareFile"]>["run"]>;

/** The profile's "run" section → RunFigures (planner/run/types.ts), only the figures it gives. */
function runFigures(
  r: RunFile,
  fig: <T>(path: string, x: FigureIn<T>) => T,
  q: (path: string, x: FigureIn<string>, kind: Quantity, rule?: MagnitudeRule) => number,
  duration: (path: string, x: FigureIn<string>) => number,
): RunFigures {
  const out: RunFigures = {};
  if (r.boardPower !== undefined) out.boardPower = q("run.boardPower", r.boardPower, "watts");
  if (r.nodePower !== undefined) out.nodePower = q("run.nodePower", r.nodePower, "watts");
  if (r.pue !== undefined) out.pue = fig("run.pue", r.pue);
  if (r.failuresPerGpuHour !== undefined) out.failuresPerGpuHour = fig("run.failuresPerGpuHour", r.failuresPerGpuHour);
  // Read as --ckpt-bandwidth reads its value: "0" must be above zero, "2e12" has no unit.
  for (const k of ["checkpointBandwidth", "stagingBandwidth"] as const)
    if (r[k] !== undefined) out[k] = q(`run.${k}`, r[k], "bytes/s", { limit: RUN_LIMITS[k] });
  if (r.restartTime !== undefined) out.restartTime = duration("run.restartTime", r.restartTime);
  return out;
}
