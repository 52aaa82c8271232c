/**
 * What holds at a given instruction of a stage: the user a RUN runs as, its
 * working directory, its shell, the ENV/ARG names set so far. Docker carries
 * these from instruction to instruction; a rewrite that moves or merges
 * instructions must respect them.
 */
import type { InstructionNode, ParsedDockerfile, Stage } from "./dockerfile.js";
import { memoByInstruction } from "./memo.js";

export interface InstructionContext {
  /** `USER` in effect (`root` when none was set in this stage; a base image may differ). */
  readonly user: string;
  /** True when no USER was set in the stage, so the base image's user applies. */
  readonly userFromBase: boolean;
  /** `WORKDIR` in effect, or null when the base image's applies. */
  readonly workdir: string | null;
  /** `SHELL` exec form in effect, or null for the default `/bin/sh -c`. */
  readonly shell: readonly string[] | null;
  /** ENV and ARG names defined earlier in the stage. */
  readonly env: ReadonlyMap<string, string>;
}

export function stageOf(file: ParsedDockerfile, node: InstructionNode): Stage | undefined {
  return file.stages[node.stage];
}

/** The context a node runs in (computed once per parsed file and instruction). */
export function contextAt(file: ParsedDockerfile, node: InstructionNode): InstructionContext {
  return contextAtIndex(file, node.index);
}

const contextAtIndex = memoByInstruction((file, index): InstructionContext => {
  const node = file.instructions[index]!;
  const stage = stageOf(file, node);
  let user = "root";
  let userFromBase = true;
  let workdir: string | null = null;
  let shell: readonly string[] | null = null;
  const env = new Map<string, string>();
  for (const i of stage?.instructions ?? []) {
    if (i.index >= node.index) break;
    switch (i.keyword) {
      case "USER":
        user = i.args[0]?.value ?? user;
        userFromBase = false;
        break;
      case "WORKDIR": {
        const dir = i.args.map((a) => a.value).join(" ");
        workdir = dir.startsWith("/") || workdir === null ? dir : `${workdir.replace(/\/$/, "")}/${dir}`;
        break;
      }
      case "SHELL":
        shell = i.execArgs;
        break;
      case "ENV":
      case "ARG":
        for (const [name, value] of envPairs(i)) env.set(name, value);
        break;
    }
  }
  return { user, userFromBase, workdir, shell, env };
});

/** True when RUN bodies of this context run under a POSIX shell we can analyse. */
export function isPosixShell(context: InstructionContext): boolean {
  if (context.shell === null) return true;
  const program = context.shell[0] ?? "";
  return /(^|\/)(sh|bash|dash|ash|zsh)$/.test(program);
}

/** The home directory a user has, for cache paths (`/root` for root). */
export function homeOf(user: string): string {
  const name = user.split(":")[0]!;
  return name === "root" || name === "0" ? "/root" : `/home/${name}`;
}

/** `ENV a=b c=d`, `ENV a b`, `ARG a=b`, `ARG a` as name/value pairs. */
export function envPairs(node: InstructionNode): [string, string][] {
  const values = node.args.map((a) => a.value);
  if (values.length === 0) return [];
  if (node.keyword === "ENV" && !values[0]!.includes("=")) {
    return [[values[0]!, values.slice(1).join(" ")]];
  }
  return values.map((v) => {
    const eq = v.indexOf("=");
    return eq < 0 ? [v, ""] : [v.slice(0, eq), v.slice(eq + 1)];
  });
}
