/**
 * dockerfile-ast splits an instruction's arguments again on every call to
 * `getRawArguments()`, and its own constructors and getters call it several
 * times per instruction (JSONInstruction's constructor alone three times,
 * through getRawArgumentsContent, getArguments and getFlags). A parsed
 * instruction never changes, so the split is remembered per instance here.
 * Callers get a fresh array each time because ModifiableInstruction's
 * getArguments() shifts the flags off the array it receives.
 *
 * The split is also remembered per instruction text: the engine re-parses
 * the whole file every round, and most instructions come through unchanged.
 * The split depends only on the instruction's text and escape character, so
 * it is kept with positions relative to the instruction's start and moved to
 * where the instruction now is. (The character-by-character split was ~16 %
 * of everything dfopt allocated over the corpus.)
 *
 * Measured over the shared corpus: ~10 % of dfopt's time was spent in these
 * repeated splits. Installed once, on import, by src/dockerfile.ts; if a
 * future dockerfile-ast drops the method, nothing is patched.
 */
import { Argument, Instruction } from "dockerfile-ast";
import { rememberBounded } from "./memo.js";

type Split = ReturnType<Instruction["getArguments"]>;
/** Stored on the instance: a WeakMap with one short-lived key per instruction cost more in GC than it saved. */
const SPLIT = Symbol("dfopt.rawArguments");

interface Position {
  readonly line: number;
  readonly character: number;
}

/** An argument with its range relative to the instruction's start (line delta; character shifted on that line only). */
interface RelativeArgument {
  readonly value: string;
  readonly start: Position;
  readonly end: Position;
}

const splitsByText = new Map<string, readonly RelativeArgument[]>();
/** Distinct instruction texts remembered (a batch of any size stays bounded). */
const TEXT_CACHE_LIMIT = 2048;

interface InstructionInternals {
  [SPLIT]?: Split;
  readonly escapeChar: string;
  getTextContent(): string;
}

function relative(p: Position, base: Position): Position {
  return p.line === base.line
    ? { line: 0, character: p.character - base.character }
    : { line: p.line - base.line, character: p.character };
}

function absolute(p: Position, base: Position): Position {
  return p.line === 0
    ? { line: base.line, character: base.character + p.character }
    : { line: base.line + p.line, character: p.character };
}

const prototype = Instruction.prototype as unknown as { getRawArguments?: (this: Instruction) => Split };
const original = prototype.getRawArguments;
if (typeof original === "function") {
  prototype.getRawArguments = function getRawArgumentsOnce(this: Instruction): Split {
    const self = this as unknown as InstructionInternals;
    let split = self[SPLIT];
    if (!split) {
      const base = this.getInstructionRange().start;
      const key = `${self.escapeChar}\u0000${self.getTextContent()}`;
      const known = splitsByText.get(key);
      if (known) {
        split = known.map((a) => new Argument(a.value, { start: absolute(a.start, base), end: absolute(a.end, base) }));
      } else {
        split = original.call(this);
        rememberBounded(
          splitsByText,
          key,
          split.map((a) => {
            const range = a.getRange();
            return { value: a.getValue(), start: relative(range.start, base), end: relative(range.end, base) };
          }),
          TEXT_CACHE_LIMIT,
        );
      }
      self[SPLIT] = split;
    }
    return split.slice();
  };
}

/** dockerfile-ast's own split, bypassing both memos: what they must reproduce (for tests). */
export function unpatchedArguments(instruction: Instruction): Split {
  return original ? original.call(instruction) : instruction.getArguments();
}
