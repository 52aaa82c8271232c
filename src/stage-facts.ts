/**
 * What holds at a given instruction of a stage: the user a RUN runs as, its
 * working directory, its shell, the ENV/ARG names set so far. Docker carries
 * these from instruction to instruction; a rewrite that moves or merges
 * instructions must respect them.
 */
import type { InstructionNode, ParsedDockerfile, Stage } from "./dockerfile.js";
import { memoByFile } from "./memo.js";

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

/**
 * Contexts are folded over a whole stage at once, the first time any of its
 * instructions is asked about (asking per instruction rescanned the stage
 * each time: quadratic in a generated file of thousands of instructions).
 * An instruction's ENV/ARG map is built when first read, from the pairs set before it.
 */
const contextsOf = memoByFile((): Map<number, InstructionContext> => new Map());

function contextAtIndex(file: ParsedDockerfile, index: number): InstructionContext {
  const contexts = contextsOf(file);
  const hit = contexts.get(index);
  if (hit) return hit;
  const node = file.instructions[index]!;
  let user = "root";
  let userFromBase = true;
  let workdir: string | null = null;
  let shell: readonly string[] | null = null;
  const pairs: (readonly [string, string])[] = [];
  for (const i of stageOf(file, node)?.instructions ?? []) {
    const known = pairs.length;
    let env: Map<string, string> | undefined;
    contexts.set(i.index, {
      user,
      userFromBase,
      workdir,
      shell,
      get env() {
        return (env ??= new Map(pairs.slice(0, known)));
      },
    });
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
        pairs.push(...envPairs(i));
        break;
    }
  }
  const context = contexts.get(index) ?? { user, userFromBase: true, workdir: null, shell: null, env: new Map() };
  contexts.set(index, context);
  return context;
}

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
