import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import { contextAt, isPosixShell } from "../src/stage-facts.js";
import type { Change, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { copiedPath } from "./lib/copy-destination.js";
import { baseImageOf, execArgsOf, laterInstructions, parseImage, stageChain } from "./lib/hygiene.js";
import { isWindowsStage, shellAt } from "./lib/windows-base.js";

const id = "entrypoint-crlf";

const SHELL_SHEBANG = /^#!\s*\S*\/(env\s+)?(sh|bash|ash|dash|zsh|ksh)\b/;

function clean(path: string): string {
  return path.replace(/^\.\//, "").replace(/^\/+/, "");
}

/** True when a script with these contents is a shell script that CRLF breaks. */
export function isCrlfShellScript(name: string, text: string): boolean {
  if (!text.includes("\r\n")) return false;
  return /\.(sh|bash)$/.test(name) || SHELL_SHEBANG.test(text);
}

function quote(path: string): string {
  return /^[A-Za-z0-9_./+-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}

/** The exact RUN this pass adds, so its own insertion for one target isn't taken as a fix of another. */
const OWN_RUN = /^RUN sed -i 's\/\\r\$\/\/' (\S+)$/;

/**
 * A later RUN already strips the `\r`s (dos2unix, `sed … \r`) of this file.
 * dfopt's own `RUN sed` counts only for the path it names.
 */
function alreadyConverted(file: ParsedDockerfile, node: InstructionNode, target: string): boolean {
  const base = target.split("/").pop()!;
  return laterInstructions(file, node).some((i) => {
    if (i.keyword !== "RUN") return false;
    const text = file.text.slice(i.start, i.end);
    const own = OWN_RUN.exec(text);
    if (own) return own[1] === quote(target);
    return /dos2unix|\\r/.test(text) && text.includes(base);
  });
}

/** The USER set by this stage or a stage it builds on (null: the base image's). */
function userAt(file: ParsedDockerfile, node: InstructionNode): string | null {
  const stage = file.stages[node.stage];
  if (!stage) return null;
  let user: string | null = null;
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) {
      if (s === stage && i.index >= node.index) break;
      if (i.keyword === "USER") user = i.args[0]?.value.split(":")[0] ?? user;
    }
  }
  return user;
}

/** The stage can run `sed` through /bin/sh: it has a shell-form RUN, or builds on a distro image. */
function hasShell(file: ParsedDockerfile, node: InstructionNode): boolean {
  const stage = file.stages[node.stage]!;
  for (const s of stageChain(file, stage))
    if (s.instructions.some((i) => i.keyword === "RUN" && i.form === "shell")) return true;
  const image = baseImageOf(file, stage);
  if (!image) return false;
  const { repo } = parseImage(image);
  return !/(^|\/)(scratch|distroless|static|base)$|distroless|chainguard/.test(repo) && repo !== "scratch";
}

export const entrypointCrlf: Pass = {
  meta: {
    id,
    title: "Strip CRLF from copied shell scripts",
    summary: "RUN sed -i 's/\\r$//' after COPYing a shell script that has Windows line endings",
    defaultEnabled: true,
    doc: `## What it does
When the build context is known, looks at every shell script a COPY/ADD
brings in (\`*.sh\`, or a \`#!/bin/sh\`-style shebang). If the file in the
context has CRLF line endings, adds \`RUN sed -i 's/\\r$//' <script>\` right
after the COPY, as guide 001 does for its \`entrypoint.sh\`.

## Why
A script checked out on Windows (git \`core.autocrlf\`) keeps its \`\\r\`: the
kernel then looks for \`/bin/sh\\r\` ("no such file or directory") and every
line of the script ends in a stray \`\\r\`. The container fails at start, far
from the cause.

## Example
\`\`\`dockerfile
COPY ./entrypoint.sh .
\`\`\`
becomes
\`\`\`dockerfile
COPY ./entrypoint.sh .
RUN sed -i 's/\\r$//' ./entrypoint.sh
\`\`\`

## Safety
Safe: a shell script with CRLF endings does not run as intended; removing a
trailing \`\\r\` from each line is what the author meant. \`sed -i\` keeps the
file's mode and owner. The \`sed\` must name the copied file, never a
directory (GNU sed exits 4 on one and the build fails): with several sources
or a destination ending in \`/\`, the file is \`<dest>/<name>\`; with one source
and no trailing slash it is \`<dest>/<name>\` when \`<dest>\` is a directory
every Linux base image has (\`/\`, \`/bin\`, \`/usr/local/bin\`, \`/root\`,
\`/tmp\`, \`/etc\`…) or one the stage made (WORKDIR, \`mkdir /abs/path\`, an
earlier COPY into it), and \`<dest>\` itself when its name keeps the script's
name or extension or it sits in a bin directory (\`/usr/local/bin/run\`).
Anything else (\`COPY x.sh /app\` with no WORKDIR /app: \`/app\` may or may not
be a directory of the base image) is only reported. Also only reported (as a
skip saying to fix the file in the repository) when the stage builds a
Windows image (\`servercore\`, \`nanoserver\`, \`ltsc2022\`… or a backtick
\`escape\` directive with no SHELL: no \`sed\` there), the SHELL in effect is
not POSIX, the stage has no shell, a USER other than root is in effect (set
in the stage or a stage it builds on), the copy uses a wildcard or a
variable, or a later RUN already converts the file (\`dos2unix\`, \`sed … \\r\`).

## References
- guide 001 (\`RUN sed -i 's/\\r$//g' /usr/src/app/entrypoint.sh\`)
- git line-ending handling: https://git-scm.com/docs/gitattributes#_end_of_line_conversion
`,
  },
  run(file: ParsedDockerfile, options: PassOptions): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const context = options.buildContext;
    if (!context) return { changes, skips };
    for (const node of file.instructions) {
      if ((node.keyword !== "COPY" && node.keyword !== "ADD") || node.form === "heredoc") continue;
      if (node.flags.some((f) => f.name === "from")) continue;
      const args = execArgsOf(file, node) ?? node.args.map((a) => a.value);
      if (args.length < 2) continue;
      const sources = args.slice(0, -1);
      const dest = args[args.length - 1]!;
      for (const source of sources) {
        if (/^[a-z]+:\/\//i.test(source) || source.includes("$") || source.endsWith("/")) continue;
        const name = clean(source);
        const text = /[*?[]/.test(name) ? null : context.readText(name);
        if (text === null || !isCrlfShellScript(name, text)) continue;
        const copied = copiedPath(file, node, source, dest, sources.length);
        const target = copied.kind === "path" ? copied.path : null;
        if (alreadyConverted(file, node, target ?? `${dest}/${name.split("/").pop()!}`)) continue;
        const ctx = contextAt(file, node);
        const user = userAt(file, node) ?? "root";
        const shell = shellAt(file, node);
        const problem = isWindowsStage(file, node)
          ? "the stage builds a Windows image, which has no sed"
          : file.escapeChar === "`" && shell === null
            ? "the file uses the backtick escape of Windows Dockerfiles, whose RUN has no sed"
            : !hasShell(file, node)
              ? "the stage has no shell to fix it with"
              : !isPosixShell({ ...ctx, shell })
                ? "the stage's SHELL is not a POSIX shell"
                : user !== "root" && user !== "0"
                  ? `the stage runs as ${user} here and can't rewrite the copied file`
                  : copied.kind === "unknown"
                    ? copied.why
                    : copied.path.includes("$")
                      ? "the destination expands a variable"
                      : null;
        if (problem !== null || target === null) {
          skips.push({
            pass: id,
            at: node.start,
            reason: `${name} has CRLF line endings and will not run; convert it to LF in the repository (${problem ?? "unknown destination"})`,
          });
          continue;
        }
        changes.push({
          pass: id,
          edits: [{ start: node.end, end: node.end, newText: `${file.eol}RUN sed -i 's/\\r$//' ${quote(target)}` }],
          reason: `${name} has CRLF line endings in the build context; a shell script with \\r at each line end fails to start`,
          safety: "safe",
        });
      }
    }
    return { changes, skips };
  },
};
