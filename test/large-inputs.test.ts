/**
 * Generated Dockerfiles far larger than hand-written ones: thousands of
 * RUNs (which chain-runs merges into one RUN of thousands of commands),
 * thousands of `&&`s in one RUN. Shell lists nest one level per operator,
 * so any recursion over them overflowed the stack (a crash on a 100 KB
 * file); and per-command questions that rescanned the whole RUN made a
 * 1,000-RUN file take minutes. Time limits live in `npm run bench`; this
 * checks the result.
 */
import { describe, expect, it } from "vitest";
import { optimizeDockerfile } from "../src/api.js";
import { parseShell } from "../src/shell.js";

const runs = (n: number, body: (i: number) => string) =>
  `FROM debian:bookworm\n${Array.from({ length: n }, (_, i) => `RUN ${body(i)}`).join("\n")}\n`;

describe("large inputs", () => {
  it("models a RUN of 20,000 chained commands without recursion", () => {
    const script = Array.from({ length: 20_000 }, (_, i) => `echo ${i} > /tmp/f${i}`).join(" && ");
    const parsed = parseShell(script);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const pipelines = parsed.script.statements[0]!.andOr.pipelines;
    expect(pipelines).toHaveLength(20_000);
    // Each redirect stays with its own command.
    expect(pipelines[12_345]!.commands[0]!.redirects.map((r) => r.target)).toEqual(["/tmp/f12345"]);
  });

  it("merges 4,000 RUNs into one and converges", () => {
    const result = optimizeDockerfile(runs(4000, (i) => `echo ${i} > /tmp/f${i}`));
    expect(result.passFailures).toEqual([]);
    expect(result.converged).toBe(true);
    expect(result.output.match(/^RUN /gm)).toHaveLength(1);
  }, 60_000);

  it("handles 1,000 apt RUNs", () => {
    const result = optimizeDockerfile(
      runs(1000, (i) => `apt-get update && apt-get install -y pkg${i} && rm -rf /var/lib/apt/lists/*`),
    );
    expect(result.passFailures).toEqual([]);
    expect(result.converged).toBe(true);
    expect(result.applied.map((c) => c.pass)).toContain("chain-runs");
  }, 60_000);
});
