import type { Change, Pass, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import { envBefore, shippedStages } from "./lib/hygiene.js";
import { mayBeOldPip, pipCacheMounted, pipHasOption, pipInstalls } from "./lib/pip-calls.js";
import { analysableRuns, fileSpan, insertAfterWord } from "./lib/runs.js";

const id = "pip-hygiene";

export const pipHygiene: Pass = {
  meta: {
    id,
    title: "pip install --no-cache-dir",
    summary: "pip install --no-cache-dir when pip's cache is not kept in a cache mount",
    defaultEnabled: true,
    hadolintRules: ["DL3042"],
    doc: `## What it does
Adds \`--no-cache-dir\` to \`pip install\` (\`pip3\`, \`python -m pip\`) in the
stages that end up in the image, when caches are not kept in cache mounts
(cache strategy \`none\`, or the cache-mounts pass is off).

## Why
pip keeps every wheel it downloaded or built in \`~/.cache/pip\`; in an image
that is dead weight (often tens of MB) that no later build reuses (guide 004:
"\`--no-cache-dir\` asks pip not to store cache files at all"). With BuildKit
cache mounts the cache lives outside the image instead, and disabling it
would only slow rebuilds (guides 000, 001, 002): then this pass does nothing.

## Example
\`\`\`dockerfile
RUN pip install -r requirements.txt
\`\`\`
becomes (with \`--cache-strategy none\`)
\`\`\`dockerfile
RUN pip install --no-cache-dir -r requirements.txt
\`\`\`

## Safety
Safe: the same packages are installed; only the cache is not written.
Skipped when the RUN mounts a cache over pip's cache directory, when
\`PIP_NO_CACHE_DIR\` is already set, in builder stages whose files are not
shipped, and when the stage builds on Ubuntu ≤ 14.10 or Debian ≤ 8 without
upgrading pip first (their packaged pip 1.5 rejects the option).

## References
- guides 000, 001, 002 (cache mounts instead), 004 (\`--no-cache-dir\`)
- pip caching: https://pip.pypa.io/en/stable/topics/caching/
- hadolint DL3042
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    if (cacheMode(options) !== "none") return { changes, skips };
    const shipped = shippedStages(file);
    for (const run of analysableRuns(file).runs) {
      if (!shipped.has(run.node.stage)) continue;
      const installs = pipInstalls(run);
      if (installs.length === 0) continue;
      if (pipCacheMounted(file, run) || envBefore(file, run.node).has("PIP_NO_CACHE_DIR")) continue;
      for (const p of installs) {
        if (pipHasOption(p, "--no-cache-dir") || p.command.assigns.some((a) => a.name === "PIP_NO_CACHE_DIR")) continue;
        if (mayBeOldPip(file, run.node)) {
          skips.push({
            pass: id,
            at: fileSpan(run.node, p.command).start,
            reason: "--no-cache-dir not added: the distro's pip on this base predates it (pip < 6); upgrade pip first",
          });
          continue;
        }
        changes.push({
          pass: id,
          edits: [insertAfterWord(run.node, p.command, p.sub, " --no-cache-dir")],
          reason: "pip install --no-cache-dir keeps pip's download cache out of the image",
          safety: "safe",
        });
      }
    }
    return { changes, skips };
  },
};
