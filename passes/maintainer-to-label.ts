import type { Change, Pass, PassResult, Skip } from "../src/types.js";

const id = "maintainer-to-label";

/**
 * `value` as a double-quoted LABEL value that reads back as exactly `value`.
 * BuildKit processes a LABEL value with its shell lexer (frontend/dockerfile/
 * shell/lex.go, processDoubleQuote): inside double quotes the file's escape
 * character escapes `"`, `$` and itself, and stays literal before anything
 * else; an unescaped `$` expands. So those three are escaped with the escape
 * character in effect (backslash by default, backtick under `# escape=` + backtick).
 */
export function labelQuote(value: string, escapeChar: string): string {
  const special = new Set(['"', "$", escapeChar]);
  let out = "";
  for (const c of value) out += special.has(c) ? `${escapeChar}${c}` : c;
  return `"${out}"`;
}

/**
 * MAINTAINER has been deprecated since Docker 1.13; `LABEL maintainer=` is
 * what `docker inspect` and registries read. Both only add metadata, so the
 * rewrite never changes what the image contains.
 */
export const maintainerToLabel: Pass = {
  meta: {
    id,
    title: "MAINTAINER → LABEL maintainer",
    summary: "Replace the deprecated MAINTAINER instruction with LABEL maintainer=…",
    defaultEnabled: true,
    hadolintRules: ["DL4000"],
    doc: `## What it does
Rewrites \`MAINTAINER <name>\` as \`LABEL maintainer="<name>"\`.

## Why
MAINTAINER is deprecated (Docker 1.13). Labels are what \`docker inspect\`,
registries and SBOM tools read. PARFUM repairs the same smell.

## Example
\`\`\`dockerfile
MAINTAINER Jane Doe <jane@example.com>
\`\`\`
becomes
\`\`\`dockerfile
LABEL maintainer="Jane Doe <jane@example.com>"
\`\`\`

## Safety
Safe: both only set image metadata; no layer changes. The label's value is
exactly the text MAINTAINER stores: BuildKit parses MAINTAINER's arguments as
one verbatim string (parser.go dispatch: \`parseString\`), and
\`dispatchMaintainer\` stores it as the image's Author with no variable
expansion and no quote removal, so \`MAINTAINER "Tiago"\` gives the Author
\`"Tiago"\` (quotes kept) and \`MAINTAINER $USER\` the literal \`$USER\`. The
value is double-quoted and \`"\`, \`$\` and the escape character are escaped
with the file's escape character (a backslash by default, a backtick when
the file's \`escape\` directive says so), which is what BuildKit's lexer (processDoubleQuote) undoes.
Skipped (kept as written): a MAINTAINER with a line continuation, and one whose
text starts with \`--\` (BuildKit would parse it as a flag).

## References
- Dockerfile reference, MAINTAINER (deprecated): https://docs.docker.com/reference/dockerfile/#maintainer-deprecated
- moby/buildkit frontend/dockerfile: parser/parser.go (MAINTAINER → parseString), dockerfile2llb/convert.go (dispatchMaintainer), shell/lex.go (processDoubleQuote)
- hadolint DL4000
`,
  },
  run(file): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    for (const node of file.instructions) {
      if (node.keyword !== "MAINTAINER" || node.args.length === 0) continue;
      const raw = file.text.slice(node.bodyStart, node.end);
      if (/[\r\n]/.test(raw)) {
        skips.push({ pass: id, at: node.start, reason: "MAINTAINER spans several lines; left as written" });
        continue;
      }
      // BuildKit stores MAINTAINER's text verbatim as the image's Author: the
      // trimmed rest of the line, quotes and `$` included (no expansion).
      const value = raw.trim();
      if (value.startsWith("--")) {
        // BuildKit would read a leading `--word` as a flag, which MAINTAINER rejects.
        skips.push({ pass: id, at: node.start, reason: "MAINTAINER text starts with --; left as written" });
        continue;
      }
      changes.push({
        pass: id,
        edits: [
          { start: node.start, end: node.end, newText: `LABEL maintainer=${labelQuote(value, file.escapeChar)}` },
        ],
        reason: "MAINTAINER is deprecated; LABEL maintainer= is what tools read",
        safety: "safe",
      });
    }
    return { changes, skips };
  },
};
