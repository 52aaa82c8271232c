import type { Change, Pass, PassResult } from "../src/types.js";

const id = "maintainer-to-label";

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
Safe: both only set image metadata; no layer changes. The value is quoted
with \`"\` and \`"\`, \`\\\`, \`$\` are escaped so it reads back unchanged.
A MAINTAINER with a line continuation is skipped (kept as written).

## References
- Dockerfile reference, MAINTAINER (deprecated): https://docs.docker.com/reference/dockerfile/#maintainer-deprecated
- hadolint DL4000
`,
  },
  run(file): PassResult {
    const changes: Change[] = [];
    const skips = [];
    for (const node of file.instructions) {
      if (node.keyword !== "MAINTAINER" || node.args.length === 0) continue;
      const raw = file.text.slice(node.bodyStart, node.end);
      if (/[\r\n]/.test(raw)) {
        skips.push({ pass: id, at: node.start, reason: "MAINTAINER spans several lines; left as written" });
        continue;
      }
      const value = raw.trim().replace(/^"(.*)"$/, "$1");
      const quoted = `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
      changes.push({
        pass: id,
        edits: [{ start: node.start, end: node.end, newText: `LABEL maintainer=${quoted}` }],
        reason: "MAINTAINER is deprecated; LABEL maintainer= is what tools read",
        safety: "safe",
      });
    }
    return { changes, skips };
  },
};
