/**
 * dockerfile-ast splits an instruction's arguments again on every call to
 * `getRawArguments()`, and its own constructors and getters call it several
 * times per instruction (JSONInstruction's constructor alone three times,
 * through getRawArgumentsContent, getArguments and getFlags). A parsed
 * instruction never changes, so the split is remembered per instance here.
 * Callers get a fresh array each time because ModifiableInstruction's
 * getArguments() shifts the flags off the array it receives.
 *
 * Measured over the shared corpus: ~10 % of dfopt's time was spent in these
 * repeated splits. Installed once, on import, by src/dockerfile.ts; if a
 * future dockerfile-ast drops the method, nothing is patched.
 */
import { Instruction } from "dockerfile-ast";

type Split = ReturnType<Instruction["getArguments"]>;
/** Stored on the instance: a WeakMap with one short-lived key per instruction cost more in GC than it saved. */
const SPLIT = Symbol("dfopt.rawArguments");

const prototype = Instruction.prototype as unknown as { getRawArguments?: (this: Instruction) => Split };
const original = prototype.getRawArguments;
if (typeof original === "function") {
  prototype.getRawArguments = function getRawArgumentsOnce(this: Instruction): Split {
    const self = this as unknown as { [SPLIT]?: Split };
    const split = (self[SPLIT] ??= original.call(this));
    return split.slice();
  };
}
