// The process ids /proc lists on this machine (Linux), or null where it cannot be read.
import { readdirSync } from "node:fs";

export function procPids(): string[] | null {
  try {
    return readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
}
