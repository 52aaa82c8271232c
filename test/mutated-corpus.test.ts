/**
 * Real Dockerfiles, broken and bent the way files in the wild are: a line
 * continuation lost or left dangling, a comment or blank line inside a
 * continued RUN, CRLF line ends, an escape directive, a stray quote, a
 * heredoc, lowercase instructions, a file cut short. dfopt must either refuse
 * the file with a DockerfileError (as Docker would) or go through without a
 * pass failure, with an output that re-parses and is a fixed point, in
 * default and --unsafe mode. The mutations are seeded, so a failure names a
 * reproducible case.
 */
import { describe, expect, it } from "vitest";
import { DockerfileError, optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { sharedCorpusFiles } from "./support/shared-corpus.js";

const MUTANTS = 400;
const files = sharedCorpusFiles();

type Mutation = (lines: string[], random: () => number) => void;

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const continued = (lines: readonly string[]) => lines.flatMap((l, i) => (/\\\s*$/.test(l) ? [i] : []));
const runs = (lines: readonly string[]) => lines.flatMap((l, i) => (/^RUN\s/i.test(l) ? [i] : []));

const MUTATIONS: Record<string, Mutation> = {
  deleteLine: (ls, r) => void ls.splice(Math.floor(r() * ls.length), 1),
  duplicateLine: (ls, r) => {
    const i = Math.floor(r() * ls.length);
    ls.splice(i, 0, ls[i]!);
  },
  dropContinuation: (ls, r) => {
    const at = continued(ls);
    if (at.length) {
      const i = pick(at, r);
      ls[i] = ls[i]!.replace(/\\\s*$/, "");
    }
  },
  commentInContinuation: (ls, r) => {
    const at = continued(ls);
    if (at.length) ls.splice(pick(at, r) + 1, 0, "    # a comment inside the continuation");
  },
  blankInContinuation: (ls, r) => {
    const at = continued(ls);
    if (at.length) ls.splice(pick(at, r) + 1, 0, "");
  },
  changeOperator: (ls, r) => {
    const i = Math.floor(r() * ls.length);
    ls[i] = ls[i]!.replace("&&", pick([";", "||", "|", "&"], r));
  },
  trailingSpace: (ls, r) => {
    const i = Math.floor(r() * ls.length);
    ls[i] += pick([" ", "\t", " \\", "\\ "], r);
  },
  cutShort: (ls, r) => void (ls.length = Math.max(1, Math.floor(r() * ls.length))),
  statefulPrefix: (ls, r) => {
    const at = runs(ls);
    if (at.length) {
      const i = pick(at, r);
      const prefix = pick(["RUN cd /tmp && ", "RUN set -e; ", "RUN export X=1; ", "RUN ( ", "RUN { "], r);
      ls[i] = ls[i]!.replace(/^RUN\s+/i, prefix);
    }
  },
  swapLines: (ls, r) => {
    const i = Math.floor(r() * Math.max(1, ls.length - 1));
    if (i + 1 < ls.length) [ls[i], ls[i + 1]] = [ls[i + 1]!, ls[i]!];
  },
  directive: (ls, r) => void ls.unshift(pick(["# escape=`", "# escape=\\", "# syntax=docker/dockerfile:1"], r)),
  strayCharacter: (ls, r) => {
    const i = Math.floor(r() * ls.length);
    const at = Math.floor(r() * ls[i]!.length);
    ls[i] = ls[i]!.slice(0, at) + pick(["'", '"', "`", "$(", ")", "\\", "#", "${"], r) + ls[i]!.slice(at);
  },
  heredoc: (ls, r) => {
    const at = runs(ls);
    if (at.length) ls.splice(pick(at, r), 0, "RUN <<EOF", "apt-get update", "EOF");
  },
  lowercaseInstruction: (ls, r) => {
    const i = Math.floor(r() * ls.length);
    ls[i] = ls[i]!.replace(/^(\s*)([A-Z]+)/, (_m, space: string, word: string) => space + word.toLowerCase());
  },
};

/** A small linear congruential generator: the same seed gives the same mutants on every machine. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

interface Mutant {
  readonly label: string;
  readonly text: string;
}

function mutants(): Mutant[] {
  const random = seeded(20261126);
  const names = Object.keys(MUTATIONS);
  const out: Mutant[] = [];
  for (let k = 0; k < MUTANTS; k++) {
    const file = pick(files, random);
    const lines = file.text.split(/\r?\n/);
    const applied: string[] = [];
    const count = 1 + Math.floor(random() * 3);
    for (let j = 0; j < count; j++) {
      const name = pick(names, random);
      applied.push(name);
      MUTATIONS[name]!(lines, random);
    }
    const crlf = random() < 0.1;
    out.push({
      label: `#${k} ${file.name} ${applied.join("+")}${crlf ? " crlf" : ""}`,
      text: lines.join(crlf ? "\r\n" : "\n"),
    });
  }
  return out;
}

describe.skipIf(files.length === 0)("mutated real Dockerfiles", () => {
  it.each([false, true])(
    "refused as Docker would, or optimized to a re-parsing fixed point (unsafe: %s)",
    (unsafe) => {
      let refused = 0;
      let changed = 0;
      for (const mutant of mutants()) {
        let result;
        try {
          result = optimizeDockerfile(mutant.text, { unsafe });
        } catch (error) {
          expect(error, mutant.label).toBeInstanceOf(DockerfileError);
          refused++;
          continue;
        }
        expect(result.passFailures, mutant.label).toEqual([]);
        expect(result.converged, mutant.label).toBe(true);
        if (result.output === mutant.text) continue;
        changed++;
        expect(() => parseDockerfile(result.output), mutant.label).not.toThrow();
        expect(optimizeDockerfile(result.output, { unsafe }).output, mutant.label).toBe(result.output);
      }
      // Most mutants stay valid Dockerfiles that dfopt still improves.
      expect(changed).toBeGreaterThan(MUTANTS / 2);
      expect(refused).toBeLessThan(MUTANTS / 2);
    },
    120_000,
  );
});
