import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import { contextAt, isPosixShell } from "../src/stage-facts.js";
import type { Change, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { baseImageOf, execArgsOf, laterInstructions, parseImage, stageChain } from "./lib/hygiene.js";

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

/** Where COPY puts `source` inside the image (relative paths stay relative to WORKDIR, as RUN sees them). */
function destinationOf(source: string, dest: string, sourceCount: number): string {
  const base = clean(source).split("/").pop()!;
  if (sourceCount > 1 || dest.endsWith("/") || dest === "." || dest === "..") {
    return `${dest.replace(/\/+$/, "")}/${base}`.replace(/^\.\//, "./");
  }
  return dest;
}

function quote(path: string): string {
  return /^[A-Za-z0-9_./+-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
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
file's mode and owner. Only reported (as a skip saying to fix the file in the
repository) when the stage has no shell, runs as a non-root USER at that
point, copies with a wildcard, or already converts the file (\`dos2unix\`,
\`sed … \\r\`).

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
        if (/^[a-z]+:\/\//i.test(source) || source.includes("$")) continue;
        const name = clean(source);
        const text = /[*?[]/.test(name) ? null : context.readText(name);
        if (text === null || !isCrlfShellScript(name, text)) continue;
        const target = destinationOf(source, dest, sources.length);
        const base = target.split("/").pop()!;
        const fixed = laterInstructions(file, node).some(
          (i) =>
            i.keyword === "RUN" &&
            /dos2unix|\\r/.test(file.text.slice(i.start, i.end)) &&
            file.text.slice(i.start, i.end).includes(base),
        );
        if (fixed) continue;
        const ctx = contextAt(file, node);
        const user = ctx.user.split(":")[0]!;
        const problem = !hasShell(file, node)
          ? "the stage has no shell to fix it with"
          : !isPosixShell(ctx)
            ? "the stage's SHELL is not a POSIX shell"
            : !ctx.userFromBase && user !== "root" && user !== "0"
              ? `the stage runs as ${user} here and can't rewrite the copied file`
              : target.includes("$")
                ? "the destination expands a variable"
                : null;
        if (problem) {
          skips.push({
            pass: id,
            at: node.start,
            reason: `${name} has CRLF line endings and will not run; convert it to LF in the repository (${problem})`,
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
