/**
 * Facts about a parsed RUN body that decide whether a rewrite keeps its
 * meaning: which commands run in the RUN's own shell, and which of them
 * change state a following command would see.
 */
import type { Command, ShellScript, SimpleCommand, Statement } from "./shell.js";
import { memoByObject } from "./memo.js";

/**
 * Builtins whose effect outlives the command when run in the current shell:
 * joining another command after them (`a && b`) lets the effect leak into it.
 */
export const STATE_CHANGING_BUILTINS: ReadonlySet<string> = new Set([
  "cd",
  "pushd",
  "popd",
  "export",
  "unset",
  "set",
  "shopt",
  "source",
  ".",
  "umask",
  "exit",
  "return",
  "trap",
  "alias",
  "unalias",
  "readonly",
  "declare",
  "typeset",
  "local",
  "eval",
  "exec",
  "ulimit",
  "hash",
  "enable",
  "shift",
  "builtin",
]);

export interface StateEffect {
  /** The builtin (`cd`, `export`…), `assignment` for `A=b`, or `function`/`declare`. */
  readonly what: string;
  readonly start: number;
  readonly end: number;
}

/** Every command that runs in the RUN's own shell (not in a subshell or pipeline). */
export function* currentShellCommands(statements: readonly Statement[]): Generator<Command> {
  for (const statement of statements) {
    // `cmd &` runs in a background subshell: nothing leaks.
    if (statement.background) continue;
    for (const pipeline of statement.andOr.pipelines) {
      // Each command of a multi-command pipeline runs in its own subshell (POSIX sh).
      if (pipeline.commands.length !== 1) continue;
      const command = pipeline.commands[0]!;
      yield command;
      if (command.kind !== "simple") yield* currentShellCommands(command.inner);
    }
  }
}

/** State changes in the current shell that a chained command would inherit. */
export function stateEffects(script: ShellScript): StateEffect[] {
  const effects: StateEffect[] = [];
  for (const command of currentShellCommands(script.statements)) {
    if (command.kind === "simple") {
      if (command.words.length === 0 && command.assigns.length > 0) {
        effects.push({ what: "assignment", start: command.start, end: command.end });
        continue;
      }
      const name = command.words[0]?.value ?? null;
      if (name === null && command.words.length > 0) {
        // `$CMD args` could be anything, including `cd`.
        effects.push({ what: "dynamic command", start: command.start, end: command.end });
      } else if (name !== null && STATE_CHANGING_BUILTINS.has(name)) {
        effects.push({ what: name, start: command.start, end: command.end });
      }
    } else if (command.kind === "function" || command.kind === "declare" || command.kind === "let") {
      effects.push({ what: command.kind, start: command.start, end: command.end });
    } else if (command.kind === "arith" || command.kind === "for") {
      // `(( i++ ))` and `for i in …` assign variables in the current shell.
      effects.push({
        what: command.kind === "for" ? "for loop variable" : "arithmetic",
        start: command.start,
        end: command.end,
      });
    }
  }
  return effects;
}

/**
 * All simple commands anywhere in the script, subshells and pipelines
 * included, in source order. Shell models are immutable and shared between
 * rounds and passes (src/shell.ts caches them by source), and passes ask for
 * this list many times per RUN: it is built once per statement list.
 */
export const allSimpleCommands: (statements: readonly Statement[]) => readonly SimpleCommand[] = memoByObject(
  (statements: readonly Statement[]) => {
    const out: SimpleCommand[] = [];
    const collect = (list: readonly Statement[]) => {
      for (const statement of list) {
        for (const pipeline of statement.andOr.pipelines) {
          for (const command of pipeline.commands) {
            if (command.kind === "simple") out.push(command);
            else collect(command.inner);
          }
        }
      }
    };
    collect(statements);
    return out;
  },
);

/** Static words of a command (`null` where a word expands at run time). */
export function wordValues(command: SimpleCommand): (string | null)[] {
  return command.words.map((w) => w.value);
}

/**
 * True when the script is a plain `&&` chain of simple commands at top level
 * (the shape most RUNs have), so its commands can be reordered or split with
 * `&&` semantics intact.
 */
export function isPlainAndChain(script: ShellScript): boolean {
  return script.statements.every((s) => !s.background && s.andOr.ops.every((op) => op === "&&"));
}
