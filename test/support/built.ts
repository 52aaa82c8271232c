/**
 * Tests that run the built CLI or worker (dist/) rebuild it first when any
 * source is newer than its output (`npm test` builds before running anyway;
 * this is for running one test file on its own).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export function ensureBuilt(): void {
  const stale = ["src", "passes", "passes/lib"].some((dir) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith(".ts"))
      .some((f) => {
        const out = path.join(ROOT, "dist", dir, f.replace(/\.ts$/, ".js"));
        return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(ROOT, dir, f)).mtimeMs;
      }),
  );
  if (stale) {
    try {
      execFileSync("flock", ["/tmp/dfopt-tsc.lock", "npx", "tsc", "-p", "."], { cwd: ROOT, stdio: "ignore" });
    } catch {
      // Type errors elsewhere still emit JavaScript; the tests judge the result.
    }
  }
}
