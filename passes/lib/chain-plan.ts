/**
 * Which consecutive RUNs the chain-runs pass joins, and why it leaves the
 * others apart. Kept apart from the pass so other passes can ask the same
 * question (`chainsWithPrevious`) and stay out of its way: a pass that fixes
 * one RUN of a run of consecutive RUNs the chain will join (adding its own
 * `apt-get update`, inserting an ENV between them) would make the result
 * depend on which pass went first.
 */
import type { Flag, InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import { parseShell, type ShellScript } from "../../src/shell.js";
import { contextAt, homeOf } from "../../src/stage-facts.js";
import { memoByFile } from "../../src/memo.js";
import { findSuppressions } from "../../src/suppress.js";
import type { Pass } from "../../src/types.js";
import {
  aptListsEvents,
  bodyShape,
  carryOverHazard,
  commandNames,
  deepWalk,
  execAsShell,
  hidesFromOtherPasses,
  isSameOrAncestor,
  leakedState,
  mayEnableErrexit,
  onlySimpleCommands,
  selfUpgradedTools,
  shellOptions,
  stripGlob,
  withoutPrefixes,
  type DeepWalk,
  type ListsEvent,
} from "./chain-body.js";
import { CACHE_SPECS, normalizePath, resolveCacheDirs, type DirContext } from "./cache-dirs.js";
import { callUsesCache, cleanupOf, toolCall } from "./cache-mount-shell.js";

/** One RUN, analysed and ready to be chained. */
export interface Unit {
  readonly node: InstructionNode;
  /** File range of the command text (shell body or exec-form JSON array). */
  readonly bodyStart: number;
  readonly bodyEnd: number;
  /** Shell text replacing an exec-form body; null for shell form. */
  readonly execText: string | null;
  readonly script: ShellScript;
  readonly walk: DeepWalk;
  /** How the body is written into the chain. */
  readonly wrap: "bare" | "group" | "subshell";
  /** The shell state a subshell wrap contains (`cd`, `export`…), for the reason. */
  readonly wrapWhat: readonly string[];
  /** Why nothing may be chained after this body, or null. */
  readonly endRefusal: string | null;
  readonly flags: readonly RunFlag[];
  /** The stage builds on the official python image, where pip upgrades itself in place. */
  readonly pipInPlace: boolean;
}

export interface RunFlag {
  readonly text: string;
  /** Target of a `--mount=type=cache`, or null for every other flag. */
  readonly cacheTarget: string | null;
  readonly isCache: boolean;
}

type Prepared = { readonly unit: Unit } | { readonly refusal: string };

/** A RUN left apart from its neighbours, and why. */
export interface ChainRefusal {
  readonly node: InstructionNode;
  readonly reason: string;
}

export interface ChainPlan {
  /** Groups of two or more RUNs to join, in file order. */
  readonly groups: readonly Group[];
  readonly refusals: readonly ChainRefusal[];
}

/** What chain-runs does to a file, once per parsed file: chain-runs and the passes that stay out of its way all ask. */
export const planChains = memoByFile(computeChainPlan);

function computeChainPlan(file: ParsedDockerfile): ChainPlan {
  const groups: Group[] = [];
  const refusals: ChainRefusal[] = [];
  const suppressed = suppressedRuns(file);
  for (const stage of file.stages) {
    const runs = stage.instructions;
    let group: Group | null = null;
    const flush = () => {
      if (group && group.units.length > 1) groups.push(group);
      group = null;
    };
    for (let i = 0; i < runs.length; i++) {
      const node = runs[i]!;
      if (node.keyword !== "RUN") {
        flush();
        continue;
      }
      const prevIsRun = runs[i - 1]?.keyword === "RUN";
      const nextIsRun = runs[i + 1]?.keyword === "RUN";
      if (!prevIsRun && !nextIsRun) continue;
      const prepared: Prepared = suppressed.has(node.start)
        ? { refusal: "a `# dfopt ignore` or `# hadolint ignore=DL3059` comment keeps it as written" }
        : prepare(file, node);
      if ("refusal" in prepared) {
        flush();
        refusals.push({ node, reason: `RUN not chained with its neighbours: ${prepared.refusal}` });
        continue;
      }
      const unit = prepared.unit;
      if (group === null) {
        group = startGroup(unit);
        continue;
      }
      const joined: Group | string = extend(file, group, unit);
      if (typeof joined === "string") {
        flush();
        refusals.push({ node, reason: `RUN not chained with the RUN above: ${joined}` });
        group = startGroup(unit);
      } else {
        group = joined;
      }
    }
    flush();
  }
  return { groups, refusals };
}

/** The pass as the engine's suppression comments see it (`# dfopt ignore=chain-runs`, DL3059). */
const SELF: Pass = {
  meta: { id: "chain-runs", title: "", summary: "", doc: "", defaultEnabled: true, hadolintRules: ["DL3059"] },
  run: () => ({ changes: [], skips: [] }),
};

/**
 * Starts of the RUNs a suppression comment protects: joining them to a
 * neighbour would edit them, so they stay apart (and their neighbours can
 * still chain among themselves, instead of the engine dropping a whole chain).
 */
function suppressedRuns(file: ParsedDockerfile): Set<number> {
  const suppressions = findSuppressions(file, [SELF]);
  const ranges = [...(suppressions.ranges.get(SELF.meta.id) ?? []), ...(suppressions.ranges.get("*") ?? [])];
  const out = new Set<number>();
  for (const node of file.instructions) {
    if (node.keyword === "RUN" && ranges.some((r) => r.start === node.start)) out.add(node.start);
  }
  return out;
}

/** The planned chain holding this RUN, if chain-runs joins it to a neighbour. */
function groupOf(file: ParsedDockerfile, node: InstructionNode): Group | undefined {
  return planChains(file).groups.find((g) => g.units.some((u) => u.node === node));
}

/**
 * Whether chain-runs joins this RUN to the RUN right before it. A pass that
 * would repair this RUN on its own because of what the RUN above does (add
 * `apt-get update` to an install whose update sits alone in the RUN above)
 * should leave it to the chain when chain-runs is enabled: once chained, the
 * RUN above's commands are in the same RUN and the repair isn't needed.
 */
export function chainsWithPrevious(file: ParsedDockerfile, node: InstructionNode): boolean {
  const group = groupOf(file, node);
  return group !== undefined && group.units[0]!.node !== node;
}

/** Whether chain-runs joins this RUN to the RUN right after it (e.g. don't delete it meanwhile). */
export function chainsWithNext(file: ParsedDockerfile, node: InstructionNode): boolean {
  const group = groupOf(file, node);
  return group !== undefined && group.units[group.units.length - 1]!.node !== node;
}

/**
 * The first RUN of the chain that will hold `node` (`node` itself when it
 * isn't chained). A pass that inserts an instruction before a RUN (an ENV
 * for pip) should insert it before this one: put between two RUNs the chain
 * joins, it would keep them apart or not depending on which pass ran first.
 */
export function chainStart(file: ParsedDockerfile, node: InstructionNode): InstructionNode {
  return groupOf(file, node)?.units[0]!.node ?? node;
}

/** Consecutive units to chain, with what the chain accumulates. */
export interface Group {
  readonly units: readonly Unit[];
  /** Gap text (kept comment lines) before each unit after the first. */
  readonly gaps: readonly Gap[];
  /**
   * The chain's flags: the first RUN's, then cache mounts only later RUNs
   * have, in order. (The cache-mounts pass orders the mounts it adds by first
   * use in the RUN, so this reads the same as mounting the chained RUN.)
   */
  readonly flags: readonly RunFlag[];
  readonly addedFlags: readonly RunFlag[];
}

export interface Gap {
  /** The line break that ended the earlier RUN. */
  readonly lineBreak: string;
  /** Comment lines between the RUNs, each with its own line break. */
  readonly comments: string;
}

function startGroup(unit: Unit): Group {
  return { units: [unit], gaps: [], flags: unit.flags, addedFlags: [] };
}

function prepare(file: ParsedDockerfile, node: InstructionNode): Prepared {
  if (node.form === "heredoc") return { refusal: "it uses a heredoc" };
  if (node.form === "none") return { refusal: "it has no command" };
  const context = contextAt(file, node);
  const options = shellOptions(context.shell);
  if ("refuse" in options) return { refusal: options.refuse };
  if (context.env.has("BASH_ENV")) {
    return {
      refusal: "ENV BASH_ENV makes bash read a file at the start of every RUN, which one chain would read once",
    };
  }
  const bodyStart = node.bodyStart;
  let bodyEnd = node.end;
  while (bodyEnd > bodyStart && (file.text[bodyEnd - 1] === " " || file.text[bodyEnd - 1] === "\t")) bodyEnd--;
  if (bodyEnd <= bodyStart) return { refusal: "it has no command" };
  let execText: string | null = null;
  let script: ShellScript;
  if (node.form === "exec") {
    execText = node.execArgs ? execAsShell(node.execArgs) : null;
    if (execText === null || file.text[bodyStart] !== "[" || file.text[bodyEnd - 1] !== "]") {
      return { refusal: "its exec form has words (or a builtin) that shell form would read differently" };
    }
    const parsed = parseShell(execText);
    if (!parsed.ok) return { refusal: "its exec form does not read back as a shell command" };
    script = parsed.script;
  } else {
    if (!node.shell || !node.shell.parse.ok) {
      return {
        refusal: `its body does not parse as shell${node.shell && !node.shell.parse.ok ? ` (${node.shell.parse.error})` : ""}`,
      };
    }
    if (file.text[bodyEnd - 1] === file.escapeChar) return { refusal: "it ends with a dangling line continuation" };
    script = node.shell.parse.script;
  }
  if (script.statements.length === 0) return { refusal: "it has no command" };
  const shape = bodyShape(script);
  const walk = deepWalk(script);
  if (walk.background || shape.trailing === "&") {
    return { refusal: "it runs a command in the background with `&`, which ends with its RUN" };
  }
  if (shape.trailing === "other") return { refusal: "it has text after its last command that dfopt can't place" };
  const leaked = leakedState(script);
  // A ( … ) would hide these commands from the other passes' shell analysis:
  // such a body may still end a chain (its state dies with the RUN), but
  // nothing is chained after it.
  const hidden = leaked.length > 0 ? hidesFromOtherPasses(walk) : null;
  const wrap =
    leaked.length > 0 && hidden === null
      ? "subshell"
      : shape.statements > 1 || shape.hasOr || shape.trailing === ";"
        ? "group"
        : "bare";
  if (wrap !== "bare" && shape.hasComment) {
    return { refusal: "it ends with a `# comment`, so it can't be grouped in a chain" };
  }
  const endRefusal =
    (shape.hasComment ? "ends with a `# comment`, which would swallow the commands chained after it" : null) ??
    (hidden !== null
      ? `leaves shell state behind (${leaked.map((w) => `\`${w}\``).join(", ")}) that would leak into the commands chained after it; dfopt won't wrap it in ( … ), where other rewrites could no longer see its \`${hidden}\` call`
      : null) ??
    errexitRefusal(mayEnableErrexit(walk)) ??
    (options.errexit && (wrap !== "bare" || !onlySimpleCommands(script))
      ? "runs under a SHELL with -e, which an && chain ignores in all but its last command, so that RUN could go on past a failing command"
      : null) ??
    carryOverHazard(walk, context.workdir, context.shell?.[0] ?? null);
  return {
    unit: {
      node,
      bodyStart,
      bodyEnd,
      execText,
      script,
      walk,
      wrap,
      wrapWhat: wrap === "subshell" ? leaked : [],
      endRefusal,
      flags: node.flags.map((f) => runFlag(file, f)),
      pipInPlace: isOfficialPythonStage(file, node.stage),
    },
  };
}

function errexitRefusal(why: string | null): string | null {
  return why === null
    ? null
    : `${why}; inside an && chain the shell ignores -e, so that RUN could go on past a failing command`;
}

function runFlag(file: ParsedDockerfile, flag: Flag): RunFlag {
  const text = file.text.slice(flag.start, flag.end);
  const isCache = flag.name === "mount" && flag.options.get("type") === "cache";
  const target = flag.options.get("target") ?? flag.options.get("dst") ?? flag.options.get("destination") ?? null;
  return { text, isCache, cacheTarget: isCache ? target : null };
}

/** The group with `unit` chained after it, or why it can't be. */
function extend(file: ParsedDockerfile, group: Group, unit: Unit): Group | string {
  const previous = group.units[group.units.length - 1]!;
  if (previous.node.index + 1 !== unit.node.index) return "another instruction sits between them";
  if (previous.endRefusal !== null) return `the RUN above ${previous.endRefusal}`;
  const gap = readGap(file, previous, unit);
  if (typeof gap === "string") return gap;
  const flags = mergeFlags(file, group, unit);
  if (typeof flags === "string") return flags;
  const hazard = listsHazard(group, unit) ?? upgradeHazard(group, unit);
  if (hazard !== null) return hazard;
  return {
    units: [...group.units, unit],
    gaps: [...group.gaps, gap],
    flags: [...group.flags, ...flags],
    addedFlags: [...group.addedFlags, ...flags],
  };
}

/** The text between two RUNs: only blank lines and comment lines may be there. */
function readGap(file: ParsedDockerfile, previous: Unit, unit: Unit): Gap | string {
  const text = file.text;
  let i = previous.bodyEnd;
  while (text[i] === " " || text[i] === "\t") i++;
  const lineBreak = text.startsWith("\r\n", i) ? "\r\n" : text[i] === "\n" || text[i] === "\r" ? text[i]! : null;
  if (lineBreak === null) return "the RUN above has text after its command that dfopt can't place";
  const unitLine = file.lines.lineAt(unit.node.start);
  const unitLineStart = file.lines.lineStart(unitLine);
  if (!/^[ \t]*$/.test(text.slice(unitLineStart, unit.node.start))) return "the RUN does not start its own line";
  let comments = "";
  for (let line = file.lines.lineAt(i) + 1; line < unitLine; line++) {
    const content = file.lines.lineText(line);
    const trimmed = content.trim();
    if (trimmed === "") continue;
    if (!trimmed.startsWith("#")) return "something other than comments sits between them";
    if (/^#\s*(dfopt|hadolint)\s+ignore/i.test(trimmed)) {
      return `the comment "${trimmed}" above it applies to this RUN alone; chained, it would sit inside another RUN`;
    }
    comments += text.slice(file.lines.lineStart(line), file.lines.lineStart(line + 1));
  }
  return { lineBreak, comments };
}

/**
 * The cache mounts `unit` adds to the chain, or why its flags don't fit.
 * Flags must match, except cache mounts: a cache mount only one side has is
 * added to the chain when the other side doesn't touch its target (so the
 * mount can't hide or catch anything that side reads or writes).
 */
function mergeFlags(file: ParsedDockerfile, group: Group, unit: Unit): RunFlag[] | string {
  const plain = (flags: readonly RunFlag[]) =>
    flags
      .filter((f) => !f.isCache)
      .map((f) => f.text)
      .sort();
  const a = plain(group.flags);
  const b = plain(unit.flags);
  if (a.length !== b.length || a.some((t, k) => t !== b[k])) {
    return `their RUN flags differ (${describeFlags(group.flags)} vs ${describeFlags(unit.flags)})`;
  }
  const groupCache = group.flags.filter((f) => f.isCache);
  const unitCache = unit.flags.filter((f) => f.isCache);
  const onlyGroup = groupCache.filter((f) => !unitCache.some((g) => g.text === f.text));
  const onlyUnit = unitCache.filter((f) => !groupCache.some((g) => g.text === f.text));
  for (const mount of [...onlyGroup, ...onlyUnit]) {
    if (mount.cacheTarget === null) return `the cache mount ${mount.text} has no target`;
    const others = onlyGroup.includes(mount) ? unitCache : groupCache;
    if (others.some((o) => o.cacheTarget === mount.cacheTarget)) {
      return `both mount a cache at ${mount.cacheTarget} with different options`;
    }
  }
  for (const mount of onlyGroup) {
    const why = touchesTarget(file, unit, mount.cacheTarget!);
    if (why) return `the RUN below ${why}, and the cache mount ${mount.text} above would cover it`;
  }
  for (const mount of onlyUnit) {
    for (const earlier of group.units) {
      const why = touchesTarget(file, earlier, mount.cacheTarget!);
      if (why) return `a RUN above ${why}, and this RUN's cache mount ${mount.text} would cover it`;
    }
  }
  return onlyUnit;
}

function describeFlags(flags: readonly RunFlag[]): string {
  return flags.length === 0 ? "none" : flags.map((f) => f.text).join(" ");
}

/**
 * Why a body would be affected by a cache mount at `target` it doesn't have
 * (it names the path or a parent of it, works in a home-relative or
 * computed path, or runs a tool whose cache that is — by the cache-mounts
 * pass's own model, so the chain agrees with what that pass mounts), or null.
 * Removing the cache's contents (`rm -rf /var/lib/apt/lists/*`) is harmless
 * under a mount: the cache-mounts pass drops such cleanup itself.
 */
function touchesTarget(file: ParsedDockerfile, unit: Unit, target: string): string | null {
  const mount = normalizePath(target);
  const underHome = mount === "/root" || mount.startsWith("/root/") || mount.startsWith("/home/");
  let text = unit.script.source;
  for (const { command: written } of unit.walk.commands) {
    const command = withoutPrefixes(written);
    const isRm = command.name !== null && command.name.slice(command.name.lastIndexOf("/") + 1) === "rm";
    const args = [...command.words.slice(1), ...command.redirects.map((r) => ({ value: r.target, source: "" }))];
    for (const word of args) {
      const value = word.value;
      if (value === null) {
        if (underHome && /\$\{?HOME\b|~/.test(word.source)) return `works on ${word.source}`;
        if (/^(rm|mv|cp|chown|chmod|find|ln|tar|rsync|mkdir)$/.test(command.name ?? "")) {
          return `runs ${command.name} on a path only known at build time`;
        }
        continue;
      }
      if (underHome && value.startsWith("~")) return `works on ${value}`;
      if (!value.startsWith("/") || value === "/") continue;
      if (isRm && value.startsWith(`${mount}/`)) {
        text = text.replace(word.source, "");
        continue;
      }
      if (isSameOrAncestor(stripGlob(value), mount) || value.startsWith(`${mount}/`)) return `works on ${value}`;
    }
    const call = toolCall(command);
    if (call === null) continue;
    for (const spec of CACHE_SPECS) {
      // Emptying the cache (`apt-get clean`) is harmless under a mount.
      if (cleanupOf(call, spec) !== null || !callUsesCache(call, spec)) continue;
      const dirs = resolveCacheDirs(spec, dirContext(file, unit.node));
      if ("unknown" in dirs) return `runs ${call.tool}, whose cache directory dfopt can't place (${dirs.unknown})`;
      if (dirs.dirs.some((d) => normalizePath(d) === mount)) return `runs ${call.tool}, whose cache that is`;
    }
  }
  if (text.includes(mount)) return `mentions ${mount}`;
  return null;
}

/** Where a RUN's tools keep their caches, as the cache-mounts pass works it out. */
function dirContext(file: ParsedDockerfile, node: InstructionNode): DirContext {
  const context = contextAt(file, node);
  const stage = file.stages[node.stage];
  const image = stage?.image.toLowerCase() ?? "";
  const fromStage = file.stages.some((s) => s.index < node.stage && s.name === image);
  const familyText = (stage?.instructions ?? [])
    .filter((i) => i.keyword === "RUN")
    .map((i) => i.shell?.logical.text ?? "")
    .join("\n");
  return {
    env: context.env,
    home: homeOf(context.user),
    isRoot: /^(root|0)(:|$)/.test(context.user),
    baseImage: fromStage || image === "" ? null : image,
    familyText,
  };
}

/** apt's package lists removed by an earlier body and needed by this one before its own update. */
function listsHazard(group: Group, unit: Unit): string | null {
  let removed = false;
  const apply = (event: ListsEvent) => {
    if (event === "update") removed = false;
    else if (event === "remove-lists") removed = true;
  };
  for (const earlier of group.units) for (const event of aptListsEvents(earlier.walk)) apply(event);
  if (!removed) return null;
  for (const event of aptListsEvents(unit.walk)) {
    if (event === "update") return null;
    if (event === "needs-lists") {
      return "a RUN above removes /var/lib/apt/lists and this one installs with apt without its own apt-get update; chained, that install would run without package lists";
    }
  }
  return null;
}

/**
 * A package manager that upgraded itself in the chain's own shell after that
 * shell had run it: the shell's hash table still points to the old file, so
 * this body's call could run the old copy where a new RUN finds the new one.
 * The official python images keep pip in /usr/local/bin before and after an
 * upgrade, so the remembered path is the new pip there.
 */
function upgradeHazard(group: Group, unit: Unit): string | null {
  const later = commandNames(unit.walk);
  const hashed = new Set<string>();
  for (const earlier of group.units) {
    if (earlier.wrap !== "subshell") for (const name of commandNames(earlier.walk, true)) hashed.add(name);
    for (const tool of selfUpgradedTools(earlier.walk)) {
      if (unit.pipInPlace && /^pip\d?$/.test(tool)) continue;
      if (hashed.has(tool) && later.has(tool)) {
        return `a RUN above upgrades ${tool} after running it; in one shell this RUN's \`${tool}\` could still run the old copy the shell remembered`;
      }
    }
  }
  return null;
}

/** Whether a stage (or the stage it builds on) starts from the official python image. */
function isOfficialPythonStage(file: ParsedDockerfile, stageIndex: number): boolean {
  const seen = new Set<number>();
  let stage = file.stages[stageIndex];
  while (stage && !seen.has(stage.index)) {
    seen.add(stage.index);
    const image = stage.image.toLowerCase();
    const parent = file.stages.find((s) => s.index < stage!.index && s.name === image);
    if (!parent) return /^(docker\.io\/)?(library\/)?python(:|@|$)/.test(image);
    stage = parent;
  }
  return false;
}
