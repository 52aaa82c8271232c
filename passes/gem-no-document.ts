import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import type { Change, Pass, PassResult, Skip } from "../src/types.js";
import { baseImageOf, commandsInOrder, parseImage, stageChain } from "./lib/hygiene.js";
import { packageManagerCall } from "./lib/package-managers.js";
import { analysableRuns, fileSpan, insertAfterWord } from "./lib/runs.js";

const id = "gem-no-document";

/** Options that already decide about documentation (old `--no-ri`/`--no-rdoc` included). */
const DOC_OPTIONS = /^(--no-document|--no-doc|-N|--document|--doc|--no-ri|--no-rdoc|--ri|--rdoc)(=|$)/;

/** Releases whose packaged RubyGems predates 2.0 and its --no-document. */
const OLD_GEM_BASES: Record<string, RegExp> = {
  ubuntu: /^(10\.|11\.|12\.|13\.|14\.|lucid|maverick|natty|oneiric|precise|quantal|raring|saucy|trusty|utopic)/,
  debian: /^(5|6|7|lenny|squeeze|wheezy)\b/,
  centos: /^(5|6)\b/,
  ruby: /^1\./,
};

function mayBeOldGem(file: ParsedDockerfile, node: InstructionNode): boolean {
  const stage = file.stages[node.stage]!;
  const image = baseImageOf(file, stage);
  if (image === null) return false;
  const { repo, tag } = parseImage(image);
  return OLD_GEM_BASES[repo]?.test(tag ?? "") ?? false;
}

/** `gem: --no-document` in a gemrc written earlier in the stage already covers every install. */
function gemrcSetsDocs(file: ParsedDockerfile, node: InstructionNode): boolean {
  for (const s of stageChain(file, file.stages[node.stage]!)) {
    for (const i of s.instructions) {
      if (s.index === node.stage && i.index >= node.index) break;
      if (/gemrc/.test(file.text.slice(i.start, i.end))) return true;
    }
  }
  return false;
}

export const gemNoDocument: Pass = {
  meta: {
    id,
    title: "gem install --no-document",
    summary: "gem install --no-document: no ri/rdoc documentation in the image",
    defaultEnabled: true,
    doc: `## What it does
Adds \`--no-document\` to \`gem install\` calls that say nothing about
documentation.

## Why
RubyGems generates ri and RDoc documentation for every installed gem by
default: slower builds and megabytes nobody reads inside a container. PARFUM
repairs the same smell.

## Example
\`\`\`dockerfile
RUN gem install bundler
\`\`\`
becomes
\`\`\`dockerfile
RUN gem install --no-document bundler
\`\`\`

## Safety
Safe: documentation is never loaded by a program. Skipped when the call
already has \`--no-ri\`/\`--no-rdoc\`/\`--[no-]document\`/\`-N\`, when a gemrc is
written earlier in the stage, and on bases whose packaged RubyGems predates
2.0 (\`ruby:1.x\`, Ubuntu ≤ 14.10, Debian ≤ 7, CentOS ≤ 6), which reject the
option.

## References
- gem install options: https://guides.rubygems.org/command-reference/#gem-install
- hadolint DL3028 (the neighbouring gem rule: pin versions)
`,
  },
  run(file): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    for (const run of analysableRuns(file).runs) {
      for (const command of commandsInOrder(run.script)) {
        const call = packageManagerCall(command);
        if (!call || call.manager !== "gem" || call.subcommand !== "install") continue;
        const values = command.words.slice(call.argsFrom).map((w) => w.value);
        if (values.some((v) => v === null || DOC_OPTIONS.test(v))) continue;
        const sub = command.words.findIndex((w, i) => i >= call.argsFrom && w.value === "install");
        if (gemrcSetsDocs(file, run.node)) continue;
        if (mayBeOldGem(file, run.node)) {
          skips.push({
            pass: id,
            at: fileSpan(run.node, command).start,
            reason: "--no-document not added: RubyGems on this base predates 2.0",
          });
          continue;
        }
        changes.push({
          pass: id,
          edits: [insertAfterWord(run.node, command, sub, " --no-document")],
          reason: "gem install --no-document skips ri/RDoc generation nobody reads in an image",
          safety: "safe",
        });
      }
    }
    return { changes, skips };
  },
};
