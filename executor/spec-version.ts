// The launch spec's format version (executor/PROTOCOL.md), alone so that readers of a launch.json
// (src/plan-file.ts) check it without loading the launcher; executor/worker/spec_read.py reads
// only this one.
export const SPEC_VERSION = 1;
