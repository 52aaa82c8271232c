/**
 * `pip install` calls of the analysable RUNs, with what the pip hygiene
 * passes need to decide: the stage's base image, the cache mounts, and
 * whether the pip in use may predate an option.
 */
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import type { SimpleCommand } from "../../src/shell.js";
import { homeOf } from "../../src/stage-facts.js";
import {
  baseImageOf,
  cacheMountTargets,
  commandsInOrder,
  envBefore,
  overlaps,
  parseImage,
  stageChain,
} from "./hygiene.js";
import { packageManagerCall, type PackageManagerCall } from "./package-managers.js";
import type { RunInfo } from "./runs.js";

export interface PipInstall {
  readonly run: RunInfo;
  readonly call: PackageManagerCall;
  readonly command: SimpleCommand;
  /** Index of the `install` word in `command.words`. */
  readonly sub: number;
}

export function pipInstalls(run: RunInfo): PipInstall[] {
  const out: PipInstall[] = [];
  for (const command of commandsInOrder(run.script)) {
    const call = packageManagerCall(command);
    if (!call || call.manager !== "pip" || call.subcommand !== "install") continue;
    const sub = command.words.findIndex((w, i) => i >= call.argsFrom && w.value === "install");
    if (sub < 0) continue;
    out.push({ run, call, command, sub });
  }
  return out;
}

/** True when a word of the call (options included) is `option` or `option=…`. */
export function pipHasOption(p: PipInstall, option: string): boolean {
  return p.command.words.some(
    (w, i) => i > p.call.argsFrom - 1 && w.value !== null && (w.value === option || w.value.startsWith(`${option}=`)),
  );
}

/** True when the RUN keeps pip's cache in a cache mount (so it must not be disabled). */
export function pipCacheMounted(file: ParsedDockerfile, run: RunInfo): boolean {
  const env = envBefore(file, run.node);
  const dirs = [`${homeOf(run.context.user)}/.cache/pip`, "/root/.cache/pip"];
  const custom = env.get("PIP_CACHE_DIR");
  if (custom) dirs.push(custom);
  const targets = cacheMountTargets(run.node);
  return dirs.some((d) => overlaps(targets, d));
}
