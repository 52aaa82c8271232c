import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import type { Change, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { execArgsOf } from "./lib/hygiene.js";

const id = "add-to-copy";

/** Names ADD would try to unpack: it extracts local tar archives (plain, gzip, bzip2, xz). */
const ARCHIVE = /\.(tar|tgz|taz|tbz|tbz2|tb2|txz|tlz|tzst|gz|bz2|xz|lzma|lz|zst|z|zz|tar\.[a-z0-9]+)$/i;

/**
 * Extensions of files that are never tar archives (text, code, config, zip/jar which ADD doesn't unpack).
 * Not here on purpose: `apk` (an Alpine package is concatenated gzip tar streams, which ADD unpacks),
 * `gem`, `ova`, `box`, `crate`, `ipk` (plain or gzip tars under another name).
 */
const PLAIN = new Set(
  (
    "py pyc pyi txt md rst json yaml yml toml ini cfg conf config properties xml html htm css scss js mjs cjs ts tsx jsx " +
    "sh bash zsh ps1 bat cmd rb php pl pm go rs java kt scala c h cc cpp hpp cs swift lua r sql csv tsv env lock " +
    "jar war ear zip whl egg deb rpm pem crt key pub cer der p12 jks png jpg jpeg gif svg ico woff woff2 ttf otf eot " +
    "so a o exe dll wasm service timer socket repo list sources pref template tmpl tpl j2 jinja erb mustache hbs " +
    "conf.d d gitignore dockerignore editorconfig htaccess patch diff log pid sock crontab cron plist " +
    "proto graphql gql vue svelte elm ex exs erl hs ml clj cljs groovy gradle sbt pom mk cmake ninja m4 am in ac " +
    "cnf cf hdf wsgi rules sample example default defaults dist gemspec init acl cert csr ttc class run local vol auth " +
    "policy rc vim gpg asc sig sum sha256 md5 desktop kubeconfig tf hcl nix cabal gemfile rake ru xsl xslt xsd wsdl"
  ).split(" "),
);

function isRemote(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@/.test(source);
}

/** Characters that make a COPY/ADD source a pattern (Go filepath.Match, which BuildKit uses). */
const GLOB = /[*?[]/;

type Verdict = { kind: "copy" } | { kind: "unsafe"; why: string } | { kind: "keep"; why: string };

/** Whether `ADD <source>` does exactly what `COPY <source>` does. */
export function classifyAddSource(source: string, options: PassOptions): Verdict {
  if (isRemote(source)) return { kind: "keep", why: `${source} is a URL: ADD downloads it, COPY can't` };
  if (source.includes("$"))
    return { kind: "keep", why: `${source} expands a variable that might hold a URL or an archive` };
  const name = source.replace(/\/+$/, "").split("/").pop() ?? "";
  if (ARCHIVE.test(name)) return { kind: "keep", why: `${source} looks like a tar archive, which ADD unpacks` };
  if (GLOB.test(name)) return classifyGlob(source, name);
  // `.`, `src/`: directories are copied as they are; ADD only unpacks a source that is itself an archive.
  if (source.endsWith("/") || name === "." || name === "..") return { kind: "copy" };
  const context = options.buildContext;
  if (context && !GLOB.test(source)) {
    const text = context.readText(source.replace(/^\.\//, ""));
    if (text !== null) return { kind: "copy" };
  }
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return { kind: "copy" };
  const ext = name.slice(dot + 1).toLowerCase();
  if (PLAIN.has(ext)) return { kind: "copy" };
  return {
    kind: "unsafe",
    why: `ADD unpacks a local tar archive whatever its name; dfopt can't tell whether ${source} is one`,
  };
}

/**
 * A pattern in the last path component (`dir/*`, `app-*`, `file[0-9]`) may
 * match a local tar archive, which ADD unpacks and COPY copies as it is. The
 * build context can only be asked about names, not listed, so the matches
 * can't be checked; only a pattern whose every match ends in a literal
 * non-archive extension (`*.py`, `conf/*.yml`) is known to be safe.
 */
function classifyGlob(source: string, name: string): Verdict {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  if (ext !== undefined && PLAIN.has(ext)) return { kind: "copy" };
  return {
    kind: "unsafe",
    why: `${source} is a pattern that may match a tar archive, which ADD unpacks and COPY doesn't; dfopt can't list the build context to check`,
  };
}

/** Sources of an ADD (all arguments but the last), JSON form included. */
function addSources(file: ParsedDockerfile, node: InstructionNode): string[] | null {
  const exec = execArgsOf(file, node);
  if (exec) return exec.length >= 2 ? exec.slice(0, -1) : null;
  if (node.form !== "shell") return null;
  const values = node.args.map((a) => a.value);
  return values.length >= 2 ? values.slice(0, -1) : null;
}

/** Flags COPY accepts with the same meaning. */
const SHARED_FLAGS = new Set(["chown", "chmod", "link", "exclude"]);

export const addToCopy: Pass = {
  meta: {
    id,
    title: "ADD → COPY for local files",
    summary: "Use COPY instead of ADD for local files and directories (not URLs or tar archives)",
    defaultEnabled: true,
    hadolintRules: ["DL3020"],
    doc: `## What it does
Rewrites \`ADD <local sources> <dest>\` as \`COPY <local sources> <dest>\` when
every source is a local file or directory that ADD copies as it is.

## Why
ADD has two hidden behaviours: it downloads URLs and it unpacks local tar
archives. COPY only copies, so a reader (and a reviewer) knows what the
instruction does. PARFUM and hadolint (DL3020) repair the same smell.

## Example
\`\`\`dockerfile
ADD requirements.txt /app/
ADD . /app
\`\`\`
becomes
\`\`\`dockerfile
COPY requirements.txt /app/
COPY . /app
\`\`\`

## Safety
Safe when every source is provably not an archive: a directory (\`.\`, \`src/\`),
a name without an extension, a known non-archive extension (\`.py\`, \`.txt\`,
\`.zip\`, \`.jar\` — ADD does not unpack zip files), or a file the build context
shows as text. Kept as ADD: URLs, \`git@\` sources, sources with variables,
names that look like tar archives (\`app.tar.gz\`, \`.tgz\`, \`.xz\`…: ADD
unpacks them), \`--checksum\`/\`--keep-git-dir\` and heredocs. **Unsafe**: any
other extension (\`data.bin\`), because ADD unpacks a tar archive whatever its
name; and a wildcard in the last path component (\`dir/*\`, \`app-*\`,
\`file[0-9]\`) unless the pattern ends in a literal non-archive extension
(\`*.py\`, \`conf/*.yml\`): it may match a \`.tar.gz\` that ADD unpacks, and the
build context can only be asked about names, not listed. \`.apk\` is not a
non-archive extension: an Alpine package is gzip-compressed tar, which ADD
unpacks (so are \`.gem\`, \`.crate\`, \`.ipk\`, \`.ova\`, \`.box\`). ONBUILD ADD
is left alone.

## References
- Dockerfile reference, ADD and COPY: https://docs.docker.com/reference/dockerfile/#add
- Docker best practices, ADD or COPY: https://docs.docker.com/build/building/best-practices/#add-or-copy
- hadolint DL3020
`,
  },
  run(file: ParsedDockerfile, options: PassOptions): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    for (const node of file.instructions) {
      if (node.keyword !== "ADD") continue;
      if (node.form === "heredoc") continue;
      const flag = node.flags.find((f) => !SHARED_FLAGS.has(f.name));
      if (flag) {
        skips.push({ pass: id, at: node.start, reason: `ADD --${flag.name} has no COPY equivalent` });
        continue;
      }
      const sources = addSources(file, node);
      if (!sources) continue;
      const verdicts = sources.map((s) => classifyAddSource(s, options));
      const keep = verdicts.find((v): v is Extract<Verdict, { kind: "keep" }> => v.kind === "keep");
      if (keep) {
        skips.push({ pass: id, at: node.start, reason: `ADD kept: ${keep.why}` });
        continue;
      }
      const unsafe = verdicts.find((v): v is Extract<Verdict, { kind: "unsafe" }> => v.kind === "unsafe");
      const written = file.text.slice(node.start, node.start + 3);
      const copy = written === "add" ? "copy" : written === "Add" ? "Copy" : "COPY";
      changes.push({
        pass: id,
        edits: [{ start: node.start, end: node.start + 3, newText: copy }],
        reason: "ADD of local files: COPY does the same without ADD's download and unpack behaviours",
        safety: unsafe ? "unsafe" : "safe",
        ...(unsafe ? { unsafeBecause: unsafe.why } : {}),
      });
    }
    return { changes, skips };
  },
};
