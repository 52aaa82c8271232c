/**
 * Which pip a `pip install` runs, as far as the Dockerfile shows: the
 * official python image's own pip, a pip that an earlier command upgraded,
 * or the distro's packaged pip, whose version depends on the release the
 * image is built on. Ubuntu ≤ 15.10, Debian ≤ 8 and CentOS ≤ 6 ship pip
 * 1.x, which rejects options added in pip 6 (`--no-cache-dir`): a pass that
 * adds such an option must know the pip is new enough.
 */
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import type { SimpleCommand } from "../../src/shell.js";
import { allSimpleCommands } from "../../src/shell-facts.js";
import { baseImageOf, parseImage, stageChain } from "./hygiene.js";
import { isPython, packageManagerCall } from "./package-managers.js";

export type Release = "old" | "new" | "unknown";

/** Debian and Ubuntu codenames whose python-pip is older than pip 6. */
const OLD_CODENAMES =
  /(^|[^a-z])(lenny|squeeze|wheezy|jessie|lucid|maverick|natty|oneiric|precise|quantal|raring|saucy|trusty|utopic|vivid|wily)([^a-z]|$)/;
/** Debian ≥ 9 and Ubuntu ≥ 16.04 codenames (python-pip ≥ 8). */
const NEW_CODENAMES =
  /(^|[^a-z])(stretch|buster|bullseye|bookworm|trixie|xenial|yakkety|zesty|artful|bionic|cosmic|disco|eoan|focal|groovy|hirsute|impish|jammy|kinetic|lunar|mantic|noble)([^a-z]|$)/;

/** Official images whose tag names a distro release by number. */
const DISTRO_MIN_NEW: Record<string, number> = {
  // first release whose packaged pip is ≥ 6: 16.04, 9, 7 (EPEL python2-pip 8.1), Fedora 22
  ubuntu: 16,
  debian: 9,
  centos: 7,
  fedora: 22,
};

/**
 * Official language images whose plain version tags are all built on Debian
 * stretch or later from a given version on (docker-library/golang has no
 * jessie variant from 1.9).
 */
const DEBIAN_NEW_SINCE: Record<string, readonly [number, number]> = {
  golang: [1, 9],
};

const ROLLING_TAGS = new Set(["latest", "rolling", "devel", "stable", "testing", "unstable", "sid", "edge", "rawhide"]);

/**
 * How new the distro release behind an image reference is, read from the
 * whole reference (repository and tag): `nvidia/cuda:cudnn-ubuntu14.04`,
 * `gocd/gocd-agent-ubuntu-14.04`, `uken/precise` are old; an official image
 * without a tag is the current release; anything else is unknown.
 */
export function releaseOf(image: string): Release {
  const ref = image.toLowerCase();
  const parsed = parseImage(ref);
  const tag = parsed.tag;
  // `centos/centos` (registry.centos.org) is the distro's own image.
  const repo = /^([a-z]+)\/\1$/.test(parsed.repo) ? parsed.repo.split("/")[0]! : parsed.repo;
  const official = !repo.includes("/");
  const whole = `${repo}:${tag ?? ""}`;
  if (OLD_CODENAMES.test(whole)) return "old";
  // 12.04, ubuntu14.04, 15.10…: Ubuntu releases before 16.04.
  if (/(^|[^0-9.])1[0-5]\.(04|10)([^0-9]|$)/.test(whole)) return "old";
  if (/(^|[^a-z])(centos|rhel|el)[-_]?[2-6]([^0-9.]|$)/.test(whole)) return "old";
  if (/(^|[^a-z])debian[-_]?[2-8]([^0-9]|$)/.test(whole)) return "old";
  const alpine = /alpine[-_:]?v?(\d+)\.(\d+)/.exec(whole);
  if (alpine) return Number(alpine[1]) > 3 || Number(alpine[2]) >= 3 ? "new" : "old";
  if (repo === "alpine") {
    if (tag === null || ROLLING_TAGS.has(tag)) return "new";
    const m = /^(\d+)\.(\d+)/.exec(tag);
    return m && (Number(m[1]) > 3 || Number(m[2]) >= 3) ? "new" : "unknown";
  }
  const minNew = DISTRO_MIN_NEW[repo];
  if (minNew !== undefined) {
    if (tag === null || ROLLING_TAGS.has(tag)) return "new";
    const m = /^(\d+)/.exec(tag);
    if (m) return Number(m[1]) >= minNew ? "new" : "old";
  }
  if (repo === "amazonlinux") return "new";
  if (repo === "opensuse" || repo.startsWith("opensuse/")) {
    if (tag === null || /^(latest|leap|tumbleweed|4\d|15)/.test(tag)) return "new";
    return "unknown";
  }
  if (NEW_CODENAMES.test(whole)) return "new";
  const since = DEBIAN_NEW_SINCE[repo];
  const version = /^(\d+)\.(\d+)(\.\d+)?$/.exec(tag ?? "");
  if (since && version) {
    const [major, minor] = [Number(version[1]), Number(version[2])];
    if (major > since[0] || (major === since[0] && minor >= since[1])) return "new";
  }
  if (/ubuntu[-_]?(1[6-9]|[2-9]\d)\.(04|10)/.test(whole)) return "new";
  if (/(^|[^a-z])(centos|rhel|el|ubi)[-_]?[7-9]/.test(whole)) return "new";
  if (/(^|[^a-z])debian[-_]?(9|[1-9]\d)([^0-9]|$)/.test(whole)) return "new";
  // An official image without a tag is built on the current Debian or Alpine.
  if (official && (tag === null || tag === "latest")) return "new";
  return "unknown";
}

/** The pip a command runs, as a key: `pip`, `pip3`, `pip3.6` (`python3 -m pip` → `pip3`). */
function pipKey(command: SimpleCommand): string | null {
  const call = packageManagerCall(command);
  if (!call || call.manager !== "pip") return null;
  const words = command.words.map((w) => w.value);
  const exe = words[call.argsFrom - 1];
  if (exe === null || exe === undefined) return null;
  if (exe === "pip" || exe === "pip3") {
    // `python3 -m pip`: the module's interpreter decides.
    const py = words.slice(0, call.argsFrom - 1).find((w) => w !== null && isPython(w));
    if (py) return `pip${py.slice(py.lastIndexOf("/") + 1).slice("python".length)}`;
  }
  return exe.slice(exe.lastIndexOf("/") + 1);
}

/** `pip install -U pip`, `pip install pip==9.0.3`, `pip install --upgrade "pip<21"`. */
function upgradesPip(command: SimpleCommand): boolean {
  const call = packageManagerCall(command);
  if (!call || call.manager !== "pip" || call.subcommand !== "install") return false;
  const args = call.args.filter((a): a is string => a !== null);
  const upgrade = args.some((a) => a === "-U" || a === "--upgrade" || /^-[a-zA-Z]*U[a-zA-Z]*$/.test(a));
  return args.some((a) => /^pip([<>=!~]|$)/.test(a) && (upgrade || /^pip(==|>=|~=)/.test(a)));
}

/** Commands that install a fresh pip for every interpreter they touch. */
function installsFreshPip(command: SimpleCommand): boolean {
  const words = command.words.map((w) => w.value ?? "");
  if (words.some((w) => /get-pip\.py/.test(w))) return true;
  const name = (command.name ?? "").slice((command.name ?? "").lastIndexOf("/") + 1);
  return /^easy_install/.test(name) && words.slice(1).some((w) => /^pip([<>=]|$)/.test(w));
}

/**
 * True when the pip `command` runs is known to accept options added in pip 6
 * or later: an earlier command (in an earlier RUN of the stage chain, or
 * before it in the same RUN) upgraded that very pip, the stage builds on the
 * official python image, or on a distro release known to ship pip ≥ 6.
 * Returns the reason it is not known otherwise.
 */
export function pipKnownNew(
  file: ParsedDockerfile,
  node: InstructionNode,
  command: SimpleCommand,
): { ok: true } | { ok: false; reason: string } {
  const stage = file.stages[node.stage];
  if (!stage) return { ok: false, reason: "the stage is unknown" };
  const key = pipKey(command);
  const upgraded = (c: SimpleCommand): boolean => installsFreshPip(c) || (upgradesPip(c) && pipKey(c) === key);
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) {
      if (s.index === stage.index && i.index > node.index) break;
      if (i.keyword !== "RUN") continue;
      if (!i.shell?.parse.ok) {
        if (i !== node && /get-pip\.py/.test(file.text.slice(i.start, i.end))) return { ok: true };
        continue;
      }
      for (const c of allSimpleCommands(i.shell.parse.script.statements)) {
        if (i === node && c.start >= command.start) break;
        if (upgraded(c)) return { ok: true };
      }
    }
  }
  const image = baseImageOf(file, stage);
  if (image === null) return { ok: false, reason: "the base image is not known statically" };
  const { repo } = parseImage(image);
  if (repo === "python") return { ok: true };
  const release = releaseOf(image);
  if (release === "new") return { ok: true };
  if (release === "old")
    return { ok: false, reason: `${image} ships a distro pip older than pip 6, and nothing upgraded it before` };
  return {
    ok: false,
    reason: `the pip of ${image} may be a distro pip older than pip 6 (its release can't be told), and nothing upgraded it before`,
  };
}
