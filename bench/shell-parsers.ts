/**
 * `npm run bench:shell`: the measurement behind dfopt's choice of shell
 * parser. Over every shell-form RUN/CMD/ENTRYPOINT body of the shared corpus
 * (as Docker hands it to the shell), times tree-sitter-bash (what dfopt
 * uses, including conversion to dfopt's model), mvdan-sh (mvdan/sh via
 * GopherJS) and sh-syntax (mvdan/sh via WASM), and checks that dfopt's model
 * agrees with mvdan/sh wherever both parse.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell } from "../src/shell.js";
import { compatible, modelSignature, mvdanSignature } from "./shell-signature.js";

const corpus = path.resolve(import.meta.dirname, "../../../shared/corpus/files");

function bodies(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(corpus)) {
    if (name === "MANIFEST.tsv") continue;
    try {
      for (const node of parseDockerfile(readFileSync(path.join(corpus, name), "utf8")).instructions) {
        if (node.shell) out.push(node.shell.logical.text);
      }
    } catch {
      // not a valid Dockerfile
    }
  }
  return out;
}

function time<T>(label: string, fn: () => T): { label: string; ms: number; result: T } {
  const start = performance.now();
  const result = fn();
  return { label, ms: performance.now() - start, result };
}

const all = bodies();
console.log(`${all.length} shell bodies from ${corpus}`);

const treeSitter = time("tree-sitter-bash (parse + dfopt model)", () => all.filter((b) => parseShell(b).ok).length);
const mvdan = time("mvdan-sh (parse + read tree)", () => all.filter((b) => mvdanSignature(b) !== null).length);
const { parse } = await import("sh-syntax");
const shSyntaxSample = all.slice(0, 1000);
const shSyntaxStart = performance.now();
let shSyntaxOk = 0;
for (const b of shSyntaxSample) {
  try {
    await parse(b);
    shSyntaxOk++;
  } catch {
    // rejected
  }
}
const shSyntaxMs = ((performance.now() - shSyntaxStart) / shSyntaxSample.length) * all.length;

let compared = 0;
let disagreements = 0;
let acceptedInvalid = 0;
for (const b of all) {
  const ours = parseShell(b);
  if (!ours.ok) continue;
  const reference = mvdanSignature(b);
  if (reference === null) acceptedInvalid++;
  else {
    compared++;
    if (!compatible(modelSignature(ours.script), reference)) disagreements++;
  }
}

const rows = [
  [treeSitter.label, treeSitter.ms, treeSitter.result],
  [mvdan.label, mvdan.ms, mvdan.result],
  [
    "sh-syntax (WASM, extrapolated from 1,000)",
    shSyntaxMs,
    Math.round((shSyntaxOk / shSyntaxSample.length) * all.length),
  ],
] as const;
console.log("\n| parser | total ms | µs per body | bodies parsed |\n| --- | ---: | ---: | ---: |");
for (const [label, ms, ok] of rows)
  console.log(`| ${label} | ${ms.toFixed(0)} | ${((ms * 1000) / all.length).toFixed(0)} | ${ok} |`);
console.log(
  `\nagreement with mvdan/sh: ${compared} bodies compared, ${disagreements} disagreements, ${acceptedInvalid} accepted by tree-sitter but rejected by mvdan/sh`,
);
