/**
 * Taking a RUN body apart for the builder-runner pass: the top-level
 * commands of a `a && b; c` script ("units"), the package words of an
 * apt-get/apk install, and text edits that drop units or words while keeping
 * the rest of the RUN byte for byte (continuation lines, comments, flags).
 */
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import { applyEdits } from "../../src/edits.js";
import type { ShellScript, ShellWord, SimpleCommand } from "../../src/shell.js";
import type { Edit } from "../../src/types.js";
import type { PackageManagerCall } from "./package-managers.js";
import { fileSpan } from "./runs.js";

/** One top-level pipeline of a RUN body and how it is joined to the one before. */
export interface Unit {
  /** Logical-text span of the pipeline. */
  readonly start: number;
  readonly end: number;
  /** The pipeline's command when it is a single simple command, else null. */
  readonly command: SimpleCommand | null;
  /** `&&` inside an and-or list, `;` between statements, null for the first. */
  readonly joinBefore: "&&" | ";" | null;
}

/**
 * The units of a script made of statements joined by `;`/newlines whose
 * and-or lists use only `&&`; null for `||` or `&`, where dropping a command
 * would change which others run.
 */
export function unitsOf(script: ShellScript): Unit[] | null {
  const units: Unit[] = [];
  for (const statement of script.statements) {
    if (statement.background) return null;
    if (statement.andOr.ops.some((op) => op !== "&&")) return null;
    statement.andOr.pipelines.forEach((pipeline, i) => {
      const only = pipeline.commands.length === 1 && !pipeline.negated ? pipeline.commands[0]! : null;
      units.push({
        start: pipeline.start,
        end: pipeline.end,
        command: only && only.kind === "simple" ? only : null,
        joinBefore: i > 0 ? "&&" : units.length > 0 ? ";" : null,
      });
    });
  }
  return units;
}

/**
 * Edits (file offsets) that delete the marked units. A run of deleted units
 * takes the joiner before it along (`a && b && c` → `a && c`), except when
 * that would turn `a; b && c` into `a && c`: then the joiner after it goes
 * (`a; c`), so every kept command runs under the same condition as before
 * (assuming the dropped commands succeeded, as they did in a build that
 * worked). Returns null when every unit is deleted.
 */
export function dropUnits(node: InstructionNode, units: readonly Unit[], drop: readonly boolean[]): Edit[] | null {
  if (drop.every((d) => d)) return null;
  const logical = node.shell!.logical;
  const edits: Edit[] = [];
  for (let a = 0; a < units.length; a++) {
    if (!drop[a]) continue;
    let b = a;
    while (b + 1 < units.length && drop[b + 1]) b++;
    const next = units[b + 1];
    let from: number;
    let to: number;
    if (a === 0 || (units[a]!.joinBefore === ";" && next !== undefined && next.joinBefore === "&&")) {
      from = units[a]!.start;
      to = next!.start;
    } else {
      from = units[a - 1]!.end;
      to = units[b]!.end;
    }
    const start = logical.fileOffsets[from]!;
    const end = to <= from ? start : logical.fileOffsets[to - 1]! + 1;
    edits.push({ start, end, newText: "" });
    a = b;
  }
  return edits;
}

/**
 * Delete one word of a command. A word alone on its continued line goes
 * with the whole line; otherwise it goes with the blanks before it.
 */
export function dropWord(file: ParsedDockerfile, node: InstructionNode, word: ShellWord): Edit {
  const text = file.text;
  const { start, end } = fileSpan(node, word);
  let lineStart = start;
  while (lineStart > node.start && (text[lineStart - 1] === " " || text[lineStart - 1] === "\t")) lineStart--;
  let after = end;
  while (after < node.end && (text[after] === " " || text[after] === "\t")) after++;
  const atLineStart = lineStart > 0 && (text[lineStart - 1] === "\n" || text[lineStart - 1] === "\r");
  if (atLineStart && text[after] === file.escapeChar) {
    let lineEnd = after + 1;
    while (lineEnd < node.end && (text[lineEnd] === " " || text[lineEnd] === "\t")) lineEnd++;
    if (text[lineEnd] === "\r" && text[lineEnd + 1] === "\n")
      return { start: lineStart, end: lineEnd + 2, newText: "" };
    if (text[lineEnd] === "\n") return { start: lineStart, end: lineEnd + 1, newText: "" };
  }
  if (atLineStart) return { start, end: after, newText: "" };
  return { start: lineStart, end, newText: "" };
}

/** The instruction's text with edits (file offsets inside it) applied. */
export function editedText(file: ParsedDockerfile, node: InstructionNode, edits: readonly Edit[]): string {
  return applyEdits(
    file.text.slice(node.start, node.end),
    edits.map((e) => ({ start: e.start - node.start, end: e.end - node.start, newText: e.newText })),
  );
}

export interface PackageWords {
  /** Words naming packages (static values), with their index in `command.words`. */
  readonly packages: readonly { readonly index: number; readonly value: string }[];
  /** `--virtual NAME` / `-t NAME` of an apk add: the name and the word indexes to drop. */
  readonly virtualName: string | null;
  readonly virtualWords: readonly number[];
  /** A package word that expands at build time, or null. */
  readonly dynamic: string | null;
}

const APT_WITH_VALUE = new Set([
  "-o",
  "-c",
  "-t",
  "--option",
  "--config-file",
  "--target-release",
  "--default-release",
]);
const APK_WITH_VALUE = new Set([
  "--virtual",
  "-t",
  "--repository",
  "-X",
  "--root",
  "-p",
  "--keys-dir",
  "--arch",
  "--cache-dir",
  "--repositories-file",
  "--timeout",
  "--cache-max-age",
]);

/** Package words of `apt-get install|purge|remove …`, `apk add|del …`. */
export function packageWords(call: PackageManagerCall): PackageWords {
  const words = call.command.words;
  const withValue = call.manager === "apk" ? APK_WITH_VALUE : APT_WITH_VALUE;
  const packages: { index: number; value: string }[] = [];
  let virtualName: string | null = null;
  const virtualWords: number[] = [];
  let dynamic: string | null = null;
  let seenSubcommand = false;
  for (let i = call.argsFrom; i < words.length; i++) {
    const value = words[i]!.value;
    if (value === null) {
      dynamic ??= words[i]!.source;
      continue;
    }
    if (value.startsWith("-")) {
      const [flag, inline] = value.includes("=") ? [value.slice(0, value.indexOf("=")), true] : [value, false];
      const isVirtual = call.manager === "apk" && (flag === "--virtual" || flag === "-t");
      if (withValue.has(flag) && !inline) {
        if (isVirtual) {
          virtualName = words[i + 1]?.value ?? null;
          virtualWords.push(i, i + 1);
        }
        i++;
      } else if (isVirtual && inline) {
        virtualName = value.slice(value.indexOf("=") + 1);
        virtualWords.push(i);
      }
      continue;
    }
    if (!seenSubcommand) {
      seenSubcommand = true;
      continue;
    }
    packages.push({ index: i, value });
  }
  return { packages, virtualName, virtualWords, dynamic };
}
