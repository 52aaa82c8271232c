/**
 * What builder-runner's move of the packages can break at run time.
 *
 * The original installs into the interpreter's prefix (/usr/local/lib/python…,
 * scripts in /usr/local/bin; /usr on Alpine's python), readable by every user
 * and found by every python. After the split they live in a user base
 * (/root/.local, or /home/<user>/.local with PYTHONUSERBASE) that only the
 * user site of that user finds. So the split is refused when the file shows:
 *
 * - a path into the old prefix (`ENTRYPOINT ["/usr/local/bin/gunicorn"]`,
 *   `ln -s /usr/local/bin/flask`, `…/site-packages/…`): it no longer exists;
 * - a switch to another user at run time (gosu, su-exec, su, sudo, setpriv,
 *   `gunicorn --user`, `uwsgi --uid`…): /root is mode 700 and the other
 *   user's home has no packages;
 * - python run with the user site off (`-s`, `-I`; `-E` when PYTHONUSERBASE
 *   is what finds them);
 * - a VOLUME over the user base: a mount hides the packages, an old named
 *   volume keeps stale ones.
 *
 * An ENTRYPOINT/CMD script is read from the build context when dfopt has it
 * and checked the same way; when it can't be read, the change is unsafe.
 */
import { posix } from "node:path";
import type { InstructionNode, ParsedDockerfile, Stage } from "../../src/dockerfile.js";
import { parseShell, type SimpleCommand } from "../../src/shell.js";
import { allSimpleCommands } from "../../src/shell-facts.js";
import { contextAt } from "../../src/stage-facts.js";
import type { BuildContext } from "../../src/types.js";
import { isPython } from "./package-managers.js";

export interface ReachProblem {
  readonly node: InstructionNode;
  readonly reason: string;
  /** `refuse`: the file shows the break; `unsafe`: dfopt can't see whether it happens. */
  readonly kind: "refuse" | "unsafe";
}

export interface ReachFacts {
  readonly file: ParsedDockerfile;
  readonly stage: Stage;
  readonly pipRun: InstructionNode;
  /** Where the packages go: /root/.local or /home/<user>/.local. */
  readonly userBase: string;
  /** Alpine's python installs scripts into /usr/bin, Debian's pip into /usr/local/bin. */
  readonly family: "debian" | "alpine";
  readonly buildContext: BuildContext | null;
}

/** The first problem per kind of check, refusals first. */
export function userBaseReachProblems(facts: ReachFacts): ReachProblem[] {
  const problems: ReachProblem[] = [];
  const add = (p: ReachProblem | null) => {
    if (p) problems.push(p);
  };
  add(oldPrefixReference(facts));
  add(privilegeDrop(facts.file, facts.stage));
  add(userSiteOff(facts));
  add(volumeOverUserBase(facts));
  add(opaqueStartScript(facts));
  return problems.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "refuse" ? -1 : 1));
}

// ---------------------------------------------------------------------------
// Paths into the old install prefix

const PREFIX_PATH = /(?<![\w.$-])(\/usr\/(?:local\/)?(?:s?bin|lib(?:64)?|share)\/[^\s"'`,;:\])}|&<>]*)/g;

/** What pip never installs: the interpreter and pip themselves. */
const INTERPRETER_FILES =
  /^(python\d*(\.\d+)?(-config)?|pip\d*(\.\d+)?|pydoc\d*(\.\d+)?|idle\d*(\.\d+)?|2to3(-\d+(\.\d+)?)?)$/;

function oldPrefixReference({ file, stage, pipRun, family }: ReachFacts): ReachProblem | null {
  const created = createdPaths(file, stage, pipRun);
  for (const node of stage.instructions) {
    if (node === stage.from) continue;
    const body = withoutCommentLines(file.text.slice(node.bodyStart, node.end));
    for (const match of body.matchAll(PREFIX_PATH)) {
      const path = match[1]!.replace(/\/+$/, "");
      if (/\/(site|dist)-packages(\/|$)/.test(path) || /^\/usr\/local\/lib\/python/.test(path)) {
        return {
          node,
          kind: "refuse",
          reason: `line ${node.line} names ${path}; after the split the packages are in the user base, not there`,
        };
      }
      const bin = /^\/usr\/(local\/)?s?bin\/([^/]+)$/.exec(path);
      if (!bin) continue;
      const scriptsThere = bin[1] !== undefined || family === "alpine";
      if (!scriptsThere || INTERPRETER_FILES.test(bin[2]!) || created.has(path)) continue;
      return {
        node,
        kind: "refuse",
        reason: `line ${node.line} names ${path}; a script pip installed there would be in the user base's bin after the split`,
      };
    }
  }
  return null;
}

/** Paths that a COPY/ADD of the stage writes, or that a RUN before the install names (so pip didn't make them). */
function createdPaths(file: ParsedDockerfile, stage: Stage, pipRun: InstructionNode): Set<string> {
  const out = new Set<string>();
  for (const node of stage.instructions) {
    if (node.keyword === "COPY" || node.keyword === "ADD") {
      const words = node.execArgs ?? node.args.map((a) => a.value);
      if (words.length < 2) continue;
      const dest = words[words.length - 1]!;
      out.add(dest.replace(/\/+$/, ""));
      for (const source of words.slice(0, -1)) out.add(posix.join(dest, posix.basename(source)));
    } else if (node.keyword === "RUN" && node.index < pipRun.index) {
      for (const match of file.text.slice(node.bodyStart, node.end).matchAll(PREFIX_PATH)) {
        out.add(match[1]!.replace(/\/+$/, ""));
      }
    }
  }
  return out;
}

function withoutCommentLines(text: string): string {
  return text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");
}

// ---------------------------------------------------------------------------
// Another user at run time

/**
 * Tools whose job is to run a command as another user. Installing one
 * (`apt-get install gosu`) counts: it is there to be used, likely by a script.
 * sudo is left to the argv check: it runs as root unless told `-u`.
 */
const SWITCH_TOOLS =
  /(^|[\s"'`;&|(\[,=/])(gosu|su-exec|runuser|setpriv|chpst|s6-setuidgid|setuidgid|start-stop-daemon)(?=$|[\s"'`;&|),\]])/m;
const SUDO_AS_OTHER = /(^|[\s;&|])sudo\s+(-\S+\s+)*(-u|--user)[\s=]/m;
/** Servers that drop to another user themselves. */
const SERVERS_WITH_USER = /^(gunicorn|uwsgi|celery|hypercorn|supervisord)$/;
const USER_FLAG = /^(-u|--user|--uid|--setuid)(=.*)?$|^-u\S+$/;

function privilegeDrop(file: ParsedDockerfile, stage: Stage): ReachProblem | null {
  for (const node of stage.instructions) {
    if (node === stage.from) continue;
    const body = withoutCommentLines(file.text.slice(node.bodyStart, node.end));
    const tool = SWITCH_TOOLS.exec(body)?.[2];
    if (tool) return switchProblem(node, tool);
    for (const argv of commandLines(node)) {
      const name = baseName(argv[0]);
      if (name === "su") return switchProblem(node, "su");
      if (name === "sudo" && argv.some((w) => w !== null && /^(-u|--user)(=.*)?$|^-u\S+$/.test(w))) {
        return switchProblem(node, "sudo -u");
      }
      if (SERVERS_WITH_USER.test(name) && argv.some((w) => w !== null && USER_FLAG.test(w))) {
        return switchProblem(node, `${name} with a user option`);
      }
    }
  }
  return null;
}

function switchProblem(node: InstructionNode, tool: string): ReachProblem {
  return {
    node,
    kind: "refuse",
    reason: `line ${node.line} uses ${tool}: a process running as another user could not read the packages in the user base (the original had them in the system site)`,
  };
}

// ---------------------------------------------------------------------------
// python with the user site off

function userSiteOff({ stage, pipRun, userBase }: ReachFacts): ReachProblem | null {
  // Under /root/.local the user site comes from HOME; elsewhere from PYTHONUSERBASE, which -E ignores.
  const offFlags = userBase === "/root/.local" ? /[sI]/ : /[sIE]/;
  for (const node of stage.instructions) {
    if (node.index <= pipRun.index && node.keyword === "RUN") continue;
    for (const argv of commandLines(node)) {
      const flag = pythonFlagOff(argv, offFlags);
      if (flag) {
        return {
          node,
          kind: "refuse",
          reason: `line ${node.line} runs python ${flag}, which ignores the user site the split installs into`,
        };
      }
    }
  }
  return null;
}

function pythonFlagOff(argv: readonly (string | null)[], off: RegExp): string | null {
  if (!isPython(argv[0] ?? "")) return null;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i];
    if (word === null || !word.startsWith("-") || word === "-" || word.startsWith("--")) return null;
    if (word === "-c" || word === "-m") return null;
    if (word === "-W" || word === "-X") {
      i++;
      continue;
    }
    if (/^-[A-Za-z]+$/.test(word) && off.test(word.slice(1))) return word;
  }
  return null;
}

// ---------------------------------------------------------------------------
// VOLUME

function volumeOverUserBase({ stage, userBase }: ReachFacts): ReachProblem | null {
  for (const node of stage.instructions) {
    if (node.keyword !== "VOLUME") continue;
    const paths = node.execArgs ?? node.args.map((a) => a.value);
    for (const raw of paths) {
      const volume = posix.normalize(raw).replace(/\/+$/, "") || "/";
      if (volume === "/" || userBase === volume || userBase.startsWith(`${volume}/`)) {
        return {
          node,
          kind: "refuse",
          reason: `VOLUME ${raw} covers ${userBase}, where the split puts the packages: a mount would hide them`,
        };
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// An ENTRYPOINT/CMD script dfopt can't see into

function opaqueStartScript(facts: ReachFacts): ReachProblem | null {
  const { file, stage, buildContext } = facts;
  for (const node of stage.instructions) {
    if (node.keyword !== "ENTRYPOINT" && node.keyword !== "CMD") continue;
    for (const argv of commandLines(node)) {
      const script = scriptOf(argv);
      if (!script) continue;
      const text = buildContext ? readScript(file, stage, node, script, buildContext) : null;
      if (text === null) {
        return {
          node,
          kind: "unsafe",
          reason: `${node.keyword} runs ${script}, which dfopt can't read: if it switches to another user (gosu, su, setpriv…) or runs python -s/-I, the packages in ${facts.userBase} are out of its reach`,
        };
      }
      const tool =
        SWITCH_TOOLS.exec(text)?.[2] ??
        (/(^|[\s;&|])su\s/m.test(text) ? "su" : SUDO_AS_OTHER.test(text) ? "sudo -u" : null);
      if (tool) {
        return {
          node,
          kind: "refuse",
          reason: `${script} (${node.keyword}) uses ${tool}: a process running as another user could not read the packages in ${facts.userBase}`,
        };
      }
      if (/python[\d.]*\s+-[A-Za-z]*[sI][A-Za-z]*\s/.test(text)) {
        return {
          node,
          kind: "refuse",
          reason: `${script} (${node.keyword}) runs python with the user site off (-s/-I)`,
        };
      }
    }
  }
  return null;
}

/** The script an ENTRYPOINT/CMD starts (`./start.sh`, `/docker-entrypoint.sh`, `sh run.sh`), if any. */
function scriptOf(argv: readonly (string | null)[]): string | null {
  const first = argv[0];
  if (!first) return null;
  const name = baseName(first);
  if ((name === "sh" || name === "bash" || name === "dash") && argv[1] && !argv[1].startsWith("-")) return argv[1];
  if (/\.(sh|bash)$/.test(name) || first.startsWith("./") || first.startsWith("../")) return first;
  return null;
}

/** The script's text from the build context: via the COPY/ADD that puts it in place. */
function readScript(
  file: ParsedDockerfile,
  stage: Stage,
  at: InstructionNode,
  script: string,
  context: BuildContext,
): string | null {
  const workdir = contextAt(file, at).workdir ?? "/";
  const imagePath = script.startsWith("/") ? script : posix.join(workdir, script);
  for (const node of stage.instructions) {
    if ((node.keyword !== "COPY" && node.keyword !== "ADD") || node.flags.some((f) => f.name === "from")) continue;
    const words = node.execArgs ?? node.args.map((a) => a.value);
    if (words.length < 2) continue;
    const place = contextAt(file, node).workdir ?? "/";
    const rawDest = words[words.length - 1]!;
    const dest = rawDest.startsWith("/") ? rawDest : posix.join(place, rawDest);
    for (const source of words.slice(0, -1)) {
      const candidates = [
        posix.basename(source) === posix.basename(script) ? source : null,
        imagePath.startsWith(`${dest.replace(/\/+$/, "")}/`)
          ? posix.join(source, imagePath.slice(dest.replace(/\/+$/, "").length + 1))
          : null,
      ];
      for (const candidate of candidates) {
        if (candidate === null) continue;
        const text = context.readText(posix.normalize(candidate).replace(/^\.\//, ""));
        if (text !== null) return text;
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Build steps dfopt can't see into

/**
 * A command that may compile (a local script, a language package manager
 * that builds native modules), so it may need the build packages the runner
 * no longer has; null otherwise. Python scripts (`./manage.py`) don't compile.
 */
export function opaqueBuildStep(command: SimpleCommand): string | null {
  const words = command.words.map((w) => w.value);
  const name = command.name;
  if (name === null) return null;
  const base = baseName(name);
  const sub = words[1] ?? null;
  if (/^(npm|pnpm)$/.test(base) && /^(install|i|ci|rebuild|add)$/.test(sub ?? "")) return `${base} ${sub}`;
  if (base === "yarn" && (sub === null || /^(install|add)$/.test(sub))) return `yarn${sub ? ` ${sub}` : ""}`;
  if ((base === "gem" && sub === "install") || (base === "bundle" && (sub === null || sub === "install")))
    return `${base} install`;
  if (/^(cpanm|cpan|node-gyp)$/.test(base)) return base;
  if (base === "go" && /^(build|install|get)$/.test(sub ?? "")) return `go ${sub}`;
  if ((base === "sh" || base === "bash" || base === "dash") && sub !== null && !sub.startsWith("-")) {
    return /\.py$/.test(sub) ? null : `${base} ${sub} (a script dfopt can't see into)`;
  }
  if ((name.startsWith("./") || name.startsWith("../") || /\.(sh|bash)$/.test(base)) && !/\.py$/.test(base)) {
    return `${name} (a script dfopt can't see into)`;
  }
  return null;
}

// ---------------------------------------------------------------------------

/** The argv of each command an instruction runs (exec form, shell form, `sh -c "…"` inside them). */
function commandLines(node: InstructionNode): (readonly (string | null)[])[] {
  const out: (readonly (string | null)[])[] = [];
  const addScript = (source: string) => {
    const parsed = parseShell(source);
    if (!parsed.ok) return;
    for (const command of allSimpleCommands(parsed.script.statements)) addArgv(command.words.map((w) => w.value));
  };
  const addArgv = (argv: readonly (string | null)[]) => {
    const words = node.keyword === "HEALTHCHECK" && argv[0]?.toUpperCase() === "CMD" ? argv.slice(1) : argv;
    out.push(words);
    const shell = baseName(words[0] ?? null);
    const c = words.indexOf("-c");
    if (/^(sh|bash|dash|ash)$/.test(shell) && c > 0 && typeof words[c + 1] === "string") addScript(words[c + 1]!);
  };
  if (node.execArgs) addArgv(node.execArgs);
  else if (node.shell?.parse.ok) {
    for (const command of allSimpleCommands(node.shell.parse.script.statements))
      addArgv(command.words.map((w) => w.value));
  }
  return out;
}

function baseName(word: string | null | undefined): string {
  if (!word) return "";
  return word.slice(word.lastIndexOf("/") + 1);
}
