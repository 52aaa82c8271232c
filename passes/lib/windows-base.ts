/**
 * Whether a stage builds a Windows container image, where RUN goes to
 * `cmd /S /C` (or the SHELL's PowerShell) and POSIX tools such as `sed` are
 * absent. Windows images are recognised by name: every Windows base Microsoft
 * publishes is a `windows/*` image (servercore, nanoserver, server) or a
 * framework image whose name or tag says so (`dotnet/framework`,
 * `…:ltsc2022`, `…-nanoserver-1809`).
 */
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import { baseImageOf, stageChain } from "./hygiene.js";

const WINDOWS_IMAGE =
  /windows|servercore|nanoserver|ltsc20\d\d|dotnet\/framework|(^|[:-])(1809|1903|1909|2004|20h2)(-|$)/i;

/** True when `image` names a Windows base image. */
export function isWindowsImage(image: string): boolean {
  return WINDOWS_IMAGE.test(image);
}

/** True when the stage of `node` (or a stage it builds on) starts from a Windows image. */
export function isWindowsStage(file: ParsedDockerfile, node: InstructionNode): boolean {
  const stage = file.stages[node.stage];
  if (!stage) return false;
  const image = baseImageOf(file, stage);
  return image !== null && isWindowsImage(image);
}

/**
 * The SHELL in effect at `node`, following FROM <earlier stage> (a stage
 * inherits its parent's SHELL); null for the platform default.
 */
export function shellAt(file: ParsedDockerfile, node: InstructionNode): readonly string[] | null {
  const stage = file.stages[node.stage];
  if (!stage) return null;
  let shell: readonly string[] | null = null;
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) {
      if (s === stage && i.index >= node.index) break;
      if (i.keyword === "SHELL") shell = i.execArgs;
    }
  }
  return shell;
}
