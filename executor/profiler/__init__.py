"""paraplan's hardware profiler (run by `paraplan profile`, src/profile/measure.ts).

`python -m executor.profiler single …`      one process: matmul, HBM copy, memory-bound kernels,
                                            attention (single.py)
`torchrun … -m executor.profiler collectives …`   every rank: all-reduce, all-gather,
                                            reduce-scatter, send/recv (collectives.py)

Results are JSON events on stdout, one per line, prefixed `PARAPLAN_PROFILE ` (common.py); the
TypeScript side turns them into a hardware profile. Compatible with torch >= 2.5.
"""
