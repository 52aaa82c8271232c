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
const splits = new WeakMap<Instruction, Split>();

const prototype = Instruction.prototype as unknown as { getRawArguments?: (this: Instruction) => Split };
const original = prototype.getRawArguments;
if (typeof original === "function") {
  prototype.getRawArguments = function getRawArgumentsOnce(this: Instruction): Split {
    let split = splits.get(this);
    if (!split) {
      split = original.call(this);
      splits.set(this, split);
    }
    return split.slice();
  };
}
