import type { ParsedDockerfile } from "../src/dockerfile.js";
import type { Change, Edit, Pass, PassResult, Skip } from "../src/types.js";
import { bodyShape, installsSystemPackages, isCleanupOnly, isIndexUpdateOnly } from "./lib/chain-body.js";
import { detectChainStyle, type ChainStyle } from "./lib/chain-layout.js";
import { planChains, type Group, type Unit } from "./lib/chain-plan.js";

const id = "chain-runs";

export const chainRuns: Pass = {
  meta: {
    id,
    title: "Chain consecutive RUNs",
    summary:
      "Join consecutive RUNs into one layer with && (apt-get update with its install, cleanup with what it cleans)",
    defaultEnabled: true,
    hadolintRules: ["DL3059"],
    doc: `## What it does
Joins consecutive \`RUN\` instructions of a stage into one \`RUN\`, one command
per line, continued in the file's own style:

- an \`apt-get update\` (or \`apk update\`, \`yum makecache\`) alone in its RUN is
  joined with the install that follows it;
- a cleanup RUN (\`rm -rf\`, \`apt-get clean\`, \`apk del\`, \`pip cache purge\`,
  \`yum clean all\`…) is joined with the RUN that created the files;
- any other run of consecutive RUNs becomes one layer.

Comment lines between the RUNs are kept (Docker skips comment lines inside a
continued instruction); blank lines between them are removed (an empty line
inside a continued instruction is deprecated). Each RUN's own text is kept
byte for byte: only the joiner, and where needed \`{ …; }\` or \`( … )\` around
a body, are inserted.

## Why
Every RUN is a layer. A file deleted in a later RUN still ships in the layer
that created it, so cleanup only shrinks the image in the same RUN. An
\`apt-get update\` in its own RUN is cached on its own: when the install line
changes later, Docker reuses the old, stale package lists and the install
fails or gets outdated packages (Docker's best practices, hadolint DL3059).
The project guides say the same: "Chain your commands in one layer, meaning:
one RUN command" and "It's crucial to remove [build dependencies] in the same
layer as the installation, otherwise … those dependencies will just be copied
to the next layer" (guides/004); "Then remove the files in the same RUN
command" (guides/000).

The trade-off: editing one command now re-runs the whole chained RUN on the
next build. Consecutive RUNs with nothing in between rarely gain from being
cached apart.

## Example
\`\`\`dockerfile
RUN apt-get update
# tools for the healthcheck
RUN apt-get install -y curl

RUN cd /src && make
RUN rm -rf /src
\`\`\`
becomes
\`\`\`dockerfile
RUN apt-get update \\
# tools for the healthcheck
    && apt-get install -y curl

RUN (cd /src && make) \\
    && rm -rf /src
\`\`\`

## Safety
Safe: every RUN is its own \`sh -c\` in a new container, so chaining is only
done when nothing but the filesystem would carry over, and the build fails
exactly when one of the RUNs would have:

- A body is joined with \`&&\`, so a later one runs only if the earlier one
  succeeded, and the chain's status is the last body's, as with separate RUNs
  (\`sh -c\` without \`-e\` fails only on its last statement's status). A body
  with several statements (\`a; b\`), a \`||\` or a trailing \`;\` is grouped as
  \`{ a; b; }\` so \`a || b\` never turns into \`a || b && c\`.
- Shell state a body leaves behind (\`cd\`, \`export\`, assignments, \`set -x\`,
  \`umask\`, \`exit\`, \`trap\`, functions…) is contained in a subshell
  \`( … )\`, which drops it exactly as the end of a RUN does; \`exit\` then ends
  only the subshell, as it ended only its RUN. A body that also runs a
  package manager or a download (\`cd /app && pip install .\`) is not wrapped,
  as dfopt's other rewrites don't look inside \`( … )\`: it may end a chain
  as it is, where its state dies with the RUN, but nothing is chained after it.
- errexit: inside an \`&&\` chain the shell ignores \`-e\` in everything but
  the last command, even in subshells. So nothing is chained after a body that
  runs (or may run, via \`source\`/\`eval\`) \`set -e\`, and under a \`SHELL\`
  with \`-e\` only single \`&&\` lists of plain commands are chained after.
- Not chained: different RUN flags (\`--network\`, \`--security\`, bind,
  secret, ssh or tmpfs mounts); cache mounts that differ unless the RUN
  without the mount never mentions its target (then the chain gets both);
  heredocs; background jobs (\`&\`); exec form unless its words need no
  quoting in shell form; a body ending with a \`# comment\`; a \`SHELL\` that
  reads profile files (\`-l\`, \`-i\`) or \`ENV BASH_ENV\`; anything between the
  RUNs but comments.
- Not chained after a body that replaces \`/bin/sh\`, edits \`/etc/hosts\` or
  \`/etc/resolv.conf\` (fresh in every RUN), may start a service (stopped at
  the end of its RUN), deletes the WORKDIR, or upgrades a package manager
  that a later body runs (\`pip install -U pip\`: one shell remembers the old
  pip's path, a new RUN finds the new one).
- An \`apt-get install\` that would run after an earlier body removed
  \`/var/lib/apt/lists\` (without its own \`apt-get update\`) is not chained:
  that install needs the lists.

Each refusal is reported as a skip with its reason.

## References
- Dockerfile best practices, "apt-get" and "Minimize the number of layers": https://docs.docker.com/build/building/best-practices/#apt-get
- hadolint DL3059 (multiple consecutive RUN instructions)
- Docker reference, RUN and parser behaviour for comments in continued lines: https://docs.docker.com/reference/dockerfile/#format
- POSIX sh, errexit ignored in AND-OR lists: https://pubs.opengroup.org/onlinepubs/9799919799/utilities/V3_chap02.html#set
- guides/004 (chain commands in one layer; remove build deps in the same layer), guides/000 (remove files in the same RUN)
`,
  },
  run(file): PassResult {
    const plan = planChains(file);
    const style = detectChainStyle(file);
    const changes: Change[] = plan.groups.map((group) => buildChange(file, group, style));
    const skips: Skip[] = plan.refusals.map((r) => ({ pass: id, at: r.node.start, reason: r.reason }));
    return { changes, skips };
  },
};

function buildChange(file: ParsedDockerfile, group: Group, style: ChainStyle): Change {
  const escape = file.escapeChar;
  const edits: Edit[] = [];
  const units = group.units;
  const first = units[0]!;
  if (group.addedFlags.length > 0) {
    const lastFlag = first.node.flags[first.node.flags.length - 1];
    const at = lastFlag ? lastFlag.end : first.node.start + "RUN".length;
    edits.push({ start: at, end: at, newText: group.addedFlags.map((f) => ` ${f.text}`).join("") });
  }
  for (const unit of units) {
    if (unit.execText !== null) edits.push({ start: unit.bodyStart, end: unit.bodyEnd, newText: unit.execText });
  }
  const opener = (u: Unit) =>
    u.wrap === "group" ? "{ " : u.wrap === "subshell" ? (u.script.source.trimStart().startsWith("(") ? "( " : "(") : "";
  const closer = (u: Unit) =>
    u.wrap === "group" ? (bodyShape(u.script).trailing === ";" ? " }" : "; }") : u.wrap === "subshell" ? ")" : "";
  if (opener(first)) edits.push({ start: first.bodyStart, end: first.bodyStart, newText: opener(first) });
  for (let k = 1; k < units.length; k++) {
    const previous = units[k - 1]!;
    const unit = units[k]!;
    const gap = group.gaps[k - 1]!;
    const newText =
      style.operator === "trailing"
        ? `${closer(previous)} && ${escape}${gap.lineBreak}${gap.comments}${style.indent}${opener(unit)}`
        : `${closer(previous)} ${escape}${gap.lineBreak}${gap.comments}${style.indent}&& ${opener(unit)}`;
    edits.push({ start: previous.bodyEnd, end: unit.bodyStart, newText });
  }
  const last = units[units.length - 1]!;
  if (closer(last)) edits.push({ start: last.bodyEnd, end: last.bodyEnd, newText: closer(last) });
  return { pass: id, edits, reason: reasonFor(group), safety: "safe" };
}

function reasonFor(group: Group): string {
  const units = group.units;
  const wrapped = units.filter((u) => u.wrap === "subshell").flatMap((u) => u.wrapWhat);
  const contained =
    wrapped.length > 0
      ? `; ${[...new Set(wrapped)].map((w) => `\`${w}\``).join(", ")} kept in a subshell as the RUN boundary did`
      : "";
  for (let k = 1; k < units.length; k++) {
    if (isIndexUpdateOnly(units[k - 1]!.walk) && installsSystemPackages(units[k]!.walk)) {
      return `a package-index update alone in its RUN is cached apart and goes stale; chained with the install that uses it${contained}`;
    }
  }
  if (units.slice(1).some((u) => isCleanupOnly(u.walk))) {
    return `cleanup in its own RUN doesn't shrink the image (the files stay in the layer below); chained into the RUN that made them${contained}`;
  }
  return `${units.length} consecutive RUNs chained into one layer${contained}`;
}
