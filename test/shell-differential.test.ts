/**
 * Cross-checks dfopt's shell model (tree-sitter-bash) against mvdan/sh, the
 * reference parser behind shfmt, on real RUN bodies: where both parse a
 * body, they must agree on statements, &&/|| structure, pipelines and the
 * static words of every command. A sample keeps `npm test` fast;
 * `npm run bench:shell` checks every body.
 */
import { describe, expect, it } from "vitest";
import { compatible, modelSignature, mvdanSignature } from "../bench/shell-signature.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell } from "../src/shell.js";
import { sharedCorpusFiles } from "./support/shared-corpus.js";

function runBodies(sampleEvery: number): string[] {
  const bodies: string[] = [];
  sharedCorpusFiles().forEach((f, i) => {
    if (i % sampleEvery !== 0) return;
    try {
      for (const node of parseDockerfile(f.text).instructions) if (node.shell) bodies.push(node.shell.logical.text);
    } catch {
      // invalid Dockerfiles are covered elsewhere
    }
  });
  return bodies;
}

describe("shell model vs mvdan/sh", () => {
  it("hand-written cases agree", () => {
    const cases = [
      'cd /opt && FOO=1 make -j"2" install >x 2>&1 || (echo fail; exit 1)',
      "apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*",
      "export A=b C; ! x | y & z",
      "if [ -f x ]; then cd y; fi; for i in 1 2; do echo $i; done",
      "set -eux; pip install 'a==1' \"b>=2\" c\\ d",
    ];
    for (const source of cases) {
      const parsed = parseShell(source);
      expect(parsed.ok, source).toBe(true);
      if (parsed.ok) expect(compatible(modelSignature(parsed.script), mvdanSignature(source)!), source).toBe(true);
    }
  });

  it.skipIf(sharedCorpusFiles().length === 0)("agrees on a sample of the shared corpus's RUN bodies", () => {
    const bodies = runBodies(6);
    let compared = 0;
    const disagreements: string[] = [];
    const acceptedInvalid: string[] = [];
    for (const body of bodies) {
      const ours = parseShell(body);
      const reference = mvdanSignature(body);
      if (!ours.ok) continue; // refusing to analyse is always safe
      if (reference === null) {
        acceptedInvalid.push(body);
        continue;
      }
      compared++;
      if (!compatible(modelSignature(ours.script), reference)) disagreements.push(body);
    }
    expect(compared).toBeGreaterThan(500);
    // tree-sitter is error-tolerant; bodies mvdan rejects but it accepts must be rare.
    expect(acceptedInvalid.length / bodies.length).toBeLessThan(0.01);
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});
