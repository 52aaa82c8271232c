/** Shell syntax checks with a real shell (bash -n), for corpus tests. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDockerfile } from "../../src/dockerfile.js";

export const hasBash = spawnSync("bash", ["-c", "true"]).status === 0;

/** The shell-form RUN bodies of a Dockerfile, as the shell sees them (continuations joined, comment lines gone). */
export function runBodies(text: string): Set<string> {
  const out = new Set<string>();
  for (const node of parseDockerfile(text).instructions) {
    if (node.keyword === "RUN" && node.form === "shell" && node.shell) out.add(node.shell.logical.text);
  }
  return out;
}

/**
 * The bodies `bash -n` rejects. Bodies are checked in chunks, each in its
 * own subshell of one script; a chunk bash rejects is split until the bad
 * bodies are found, and a single body is checked as written (so the
 * subshell wrapping can't cause a false report).
 */
export function rejectedByBash(bodies: readonly string[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "dfopt-sh-"));
  const script = path.join(dir, "check.sh");
  const accepts = (text: string) => {
    writeFileSync(script, text);
    return spawnSync("bash", ["-n", script], { stdio: "ignore" }).status === 0;
  };
  const check = (chunk: readonly string[]): string[] => {
    if (chunk.length === 1) return accepts(`${chunk[0]}\n`) ? [] : [chunk[0]!];
    if (accepts(chunk.map((b) => `(\n${b}\n)\n`).join(""))) return [];
    const half = Math.ceil(chunk.length / 2);
    return [...check(chunk.slice(0, half)), ...check(chunk.slice(half))];
  };
  try {
    const out: string[] = [];
    for (let i = 0; i < bodies.length; i += 256) out.push(...check(bodies.slice(i, i + 256)));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
