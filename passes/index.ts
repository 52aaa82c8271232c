/**
 * The pass registry: every pass dfopt knows, in the order the engine runs
 * them within a round. Order must not change the result (the engine iterates
 * to a fixed point and tests check that any order reaches the same one); it
 * only decides which of two conflicting changes goes first.
 */
import type { Pass } from "../src/types.js";
import { maintainerToLabel } from "./maintainer-to-label.js";

export const allPasses: readonly Pass[] = [maintainerToLabel];

export function passById(id: string): Pass | undefined {
  return allPasses.find((p) => p.meta.id === id);
}
