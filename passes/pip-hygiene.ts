import type { Change, Pass, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import { cacheMountTargets, envBefore, shippedStages } from "./lib/hygiene.js";
import { pipCacheMounted, pipHasOption, pipInstalls } from "./lib/pip-calls.js";
import { pipKnownNew } from "./lib/pip-release.js";
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
Skipped when the author keeps a cache on purpose (the RUN has any
\`--mount=type=cache\`, the call passes \`--cache-dir\`, or \`PIP_CACHE_DIR\`
is set), when \`PIP_NO_CACHE_DIR\` is already set, and in builder stages
whose files are not shipped.

pip older than 6 rejects the option (\`no such option: --no-cache-dir\`),
and distro pips are that old on Ubuntu ≤ 15.10, Debian ≤ 8 and CentOS ≤ 6.
So the option is added only when the pip is known to be new enough: an
earlier command (an earlier RUN, or earlier in the same RUN) upgraded that
same pip (\`pip install -U pip\`, \`get-pip.py\`), the stage builds on the
official \`python\` image, or the release read from the whole image reference
(\`ubuntu:14.04\`, \`nvidia/cuda:…-ubuntu14.04\`, \`gocd-agent-ubuntu-14.04\`,
\`uken/precise\`, \`debian:jessie\`, \`centos:6\`, \`alpine:3.9\`…) is known
to ship pip ≥ 6. When the release can't be told (\`ruby:2.1\` is built on
jessie; a third-party image may be anything) the call is skipped with a
reason. The \`pip install -U pip\` command itself never gets the option
unless its pip is known to be new.

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
      const env = envBefore(file, run.node);
      if (pipCacheMounted(file, run) || env.has("PIP_NO_CACHE_DIR")) continue;
      // The author keeps a cache on purpose: a cache mount (whatever its target), a cache dir of their choosing.
      const keepsCache =
        cacheMountTargets(run.node).length > 0
          ? "the RUN mounts a cache"
          : env.has("PIP_CACHE_DIR") || /\bPIP_CACHE_DIR\b/.test(run.script.source)
            ? "PIP_CACHE_DIR is set"
            : null;
      for (const p of installs) {
        if (pipHasOption(p, "--no-cache-dir") || p.command.assigns.some((a) => a.name === "PIP_NO_CACHE_DIR")) continue;
        const at = fileSpan(run.node, p.command).start;
        const why = keepsCache ?? (pipHasOption(p, "--cache-dir") ? "the call sets --cache-dir" : null);
        if (why) {
          skips.push({ pass: id, at, reason: `--no-cache-dir not added: ${why}, so pip's cache is kept on purpose` });
          continue;
        }
        const known = pipKnownNew(file, run.node, p.command);
        if (!known.ok) {
          skips.push({
            pass: id,
            at,
            reason: `--no-cache-dir not added: ${known.reason} (pip < 6 rejects the option; upgrade pip first)`,
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
