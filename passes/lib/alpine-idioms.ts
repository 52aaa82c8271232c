/**
 * What differs between an Alpine image and a Debian one besides package
 * names: busybox's adduser/addgroup flags, busybox applets Debian's slim
 * images lack, shell syntax busybox ash accepts and Debian's dash rejects,
 * and binaries installed at other paths. Used by the alpine-to-debian pass.
 */
import type { Command, ShellScript, ShellWord, SimpleCommand, Statement } from "../../src/shell.js";

// --- busybox adduser / addgroup -------------------------------------------

export type UserCommandTranslation =
  | {
      readonly ok: true;
      /** Replacement for the command's words. */
      readonly text: string;
      /** Users and groups the command creates. */
      readonly createsUsers: readonly string[];
      readonly createsGroups: readonly string[];
      /** Groups it refers to (must exist). */
      readonly usesGroups: readonly string[];
      /** Explicit numeric ids it assigns. */
      readonly ids: readonly number[];
      /** Whether it lets the system pick a system uid/gid (busybox counts up from 100, Debian down from 999). */
      readonly implicitSystemId: boolean;
      /**
       * adduser only: the home directory busybox creates, then chowns to the
       * user and chmods 02755 even when it already exists (useradd
       * --create-home leaves an existing directory as it is). `path` is null
       * when it expands at build time.
       */
      readonly home?: { readonly path: string | null; readonly source: string; readonly user: string };
    }
  | { readonly ok: false; readonly reason: string };

interface ParsedOptions {
  readonly flags: Set<string>;
  readonly values: Map<string, ShellWord>;
  readonly operands: ShellWord[];
}

/**
 * getopt as busybox runs it (GNU permutation: options may follow operands),
 * for `spec` in getopt32 syntax (`h:g:s:G:DSHu:k:`) plus long aliases.
 */
function parseOptions(
  words: readonly ShellWord[],
  spec: string,
  long: Readonly<Record<string, string>>,
): ParsedOptions | string {
  const takesValue = new Set<string>();
  const known = new Set<string>();
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === ":") continue;
    known.add(c);
    if (spec[i + 1] === ":") takesValue.add(c);
  }
  const flags = new Set<string>();
  const values = new Map<string, ShellWord>();
  const operands: ShellWord[] = [];
  let endOfOptions = false;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    const v = word.value;
    if (v === null) {
      if (!endOfOptions && /^["']?-/.test(word.source)) return `option ${word.source} expands at build time`;
      operands.push(word);
      continue;
    }
    if (endOfOptions || !v.startsWith("-") || v === "-") {
      operands.push(word);
      continue;
    }
    if (v === "--") {
      endOfOptions = true;
      continue;
    }
    if (v.startsWith("--")) {
      const eq = v.indexOf("=");
      const name = eq >= 0 ? v.slice(2, eq) : v.slice(2);
      const short = long[name];
      if (short === undefined) return `unknown option ${v}`;
      if (takesValue.has(short)) {
        if (eq >= 0) {
          const valueText = v.slice(eq + 1);
          values.set(short, { ...word, source: shellQuote(valueText), value: valueText });
        } else {
          const next = words[++i];
          if (!next) return `option ${v} needs a value`;
          values.set(short, next);
        }
      } else {
        flags.add(short);
      }
      continue;
    }
    for (let j = 1; j < v.length; j++) {
      const c = v[j]!;
      if (!known.has(c)) return `unknown option -${c}`;
      if (takesValue.has(c)) {
        const rest = v.slice(j + 1);
        if (rest !== "") {
          values.set(c, { ...word, source: shellQuote(rest), value: rest });
        } else {
          const next = words[++i];
          if (!next) return `option -${c} needs a value`;
          values.set(c, next);
        }
        break;
      }
      flags.add(c);
    }
  }
  return { flags, values, operands };
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function numericId(word: ShellWord | undefined): number[] {
  return word?.value && /^\d+$/.test(word.value) ? [Number(word.value)] : [];
}

/** busybox `ash` → Debian: a login shell path that exists there. */
function loginShell(word: ShellWord): string {
  if (word.value === "/bin/ash" || word.value === "ash") return "/bin/sh";
  if (word.value === "/sbin/nologin") return "/usr/sbin/nologin";
  return word.source;
}

/**
 * busybox `adduser [-h DIR] [-g GECOS] [-s SHELL] [-G GRP] [-S] [-D] [-H]
 * [-u UID] [-k SKEL] USER [GROUP]` as Debian's useradd/usermod.
 *
 * busybox: -G sets the primary group (a new same-name group when absent, or
 * `nogroup` for -S); -S makes a system account with shell /sbin/nologin
 * and implies -D; the home (/home/USER or -h) is created unless -H; -D
 * leaves the password locked, which is also useradd's default. Without -D
 * busybox runs `passwd` interactively, which a build cannot answer; with
 * two names (and no -D) it adds an existing user to a group.
 */
export function translateAdduser(words: readonly ShellWord[]): UserCommandTranslation {
  const parsed = parseOptions(words, "h:g:s:G:DSHu:k:", {
    home: "h",
    gecos: "g",
    shell: "s",
    ingroup: "G",
    "disabled-password": "D",
    system: "S",
    "no-create-home": "H",
    uid: "u",
    skel: "k",
  });
  if (typeof parsed === "string") return { ok: false, reason: `adduser: ${parsed}` };
  const { flags, values, operands } = parsed;
  const system = flags.has("S");
  const noPassword = flags.has("D") || system;
  if (operands.length === 2 && !noPassword) {
    const [user, group] = operands as [ShellWord, ShellWord];
    return {
      ok: true,
      text: `usermod -a -G ${group.source} ${user.source}`,
      createsUsers: [],
      createsGroups: [],
      usesGroups: group.value ? [group.value] : [],
      ids: [],
      implicitSystemId: false,
    };
  }
  if (operands.length !== 1) return { ok: false, reason: "adduser: expected one user name" };
  if (!noPassword) {
    return { ok: false, reason: "adduser without -D asks for a password interactively; no Debian equivalent" };
  }
  const user = operands[0]!;
  const parts = ["useradd"];
  if (system) parts.push("--system");
  const uid = values.get("u");
  if (uid) parts.push("--uid", uid.source);
  const group = values.get("G");
  const usesGroups: string[] = [];
  const createsGroups: string[] = [];
  if (group) {
    parts.push("--gid", group.source);
    if (group.value) usesGroups.push(group.value);
  } else if (system) {
    parts.push("--gid", "nogroup");
  } else {
    parts.push("--user-group");
    if (user.value) createsGroups.push(user.value);
  }
  const home = values.get("h");
  if (home) parts.push("--home-dir", home.source);
  const noHome = flags.has("H");
  parts.push(noHome ? "--no-create-home" : "--create-home");
  const skel = values.get("k");
  if (skel && !noHome) parts.push("--skel", skel.source);
  const shell = values.get("s");
  parts.push("--shell", shell ? loginShell(shell) : system ? "/usr/sbin/nologin" : "/bin/sh");
  const gecos = values.get("g");
  if (gecos) parts.push("--comment", gecos.source);
  parts.push(user.source);
  const homeSource = home
    ? home.source
    : user.value !== null
      ? shellQuote(`/home/${user.value}`)
      : `/home/${user.source}`;
  const homePath = home ? home.value : user.value !== null ? `/home/${user.value}` : null;
  return {
    ok: true,
    text: parts.join(" "),
    createsUsers: user.value ? [user.value] : [],
    createsGroups,
    usesGroups,
    ids: numericId(uid),
    implicitSystemId: system && !uid,
    ...(noHome ? {} : { home: { path: homePath, source: homeSource, user: user.source } }),
  };
}

/** busybox `addgroup [-g GID] [-S] [USER] GROUP` as groupadd/usermod. */
export function translateAddgroup(words: readonly ShellWord[]): UserCommandTranslation {
  const parsed = parseOptions(words, "g:S", { gid: "g", system: "S" });
  if (typeof parsed === "string") return { ok: false, reason: `addgroup: ${parsed}` };
  const { flags, values, operands } = parsed;
  const gid = values.get("g");
  if (operands.length === 2) {
    if (gid || flags.has("S")) return { ok: false, reason: "addgroup: options with USER GROUP" };
    const [user, group] = operands as [ShellWord, ShellWord];
    return {
      ok: true,
      text: `usermod -a -G ${group.source} ${user.source}`,
      createsUsers: [],
      createsGroups: [],
      usesGroups: group.value ? [group.value] : [],
      ids: [],
      implicitSystemId: false,
    };
  }
  if (operands.length !== 1) return { ok: false, reason: "addgroup: expected one group name" };
  const group = operands[0]!;
  const parts = ["groupadd"];
  if (flags.has("S")) parts.push("--system");
  if (gid) parts.push("--gid", gid.source);
  parts.push(group.source);
  return {
    ok: true,
    text: parts.join(" "),
    createsUsers: [],
    createsGroups: group.value ? [group.value] : [],
    usesGroups: [],
    ids: numericId(gid),
    implicitSystemId: flags.has("S") && !gid,
  };
}

/** Names and ids debian:bookworm-slim's /etc/passwd and /etc/group already use. */
export const DEBIAN_BASE_USERS: ReadonlyMap<string, number> = new Map([
  ["root", 0],
  ["daemon", 1],
  ["bin", 2],
  ["sys", 3],
  ["sync", 4],
  ["games", 5],
  ["man", 6],
  ["lp", 7],
  ["mail", 8],
  ["news", 9],
  ["uucp", 10],
  ["proxy", 13],
  ["www-data", 33],
  ["backup", 34],
  ["list", 38],
  ["irc", 39],
  ["_apt", 42],
  ["nobody", 65534],
]);

export const DEBIAN_BASE_GROUPS: ReadonlyMap<string, number> = new Map([
  ["root", 0],
  ["daemon", 1],
  ["bin", 2],
  ["sys", 3],
  ["adm", 4],
  ["tty", 5],
  ["disk", 6],
  ["lp", 7],
  ["mail", 8],
  ["news", 9],
  ["uucp", 10],
  ["man", 12],
  ["proxy", 13],
  ["kmem", 15],
  ["dialout", 20],
  ["fax", 21],
  ["voice", 22],
  ["cdrom", 24],
  ["floppy", 25],
  ["tape", 26],
  ["sudo", 27],
  ["audio", 29],
  ["dip", 30],
  ["www-data", 33],
  ["backup", 34],
  ["operator", 37],
  ["list", 38],
  ["irc", 39],
  ["src", 40],
  ["shadow", 42],
  ["utmp", 43],
  ["video", 44],
  ["sasl", 45],
  ["plugdev", 46],
  ["staff", 50],
  ["games", 60],
  ["users", 100],
  ["nogroup", 65534],
]);

/**
 * Users Alpine's base image has (alpine-baselayout's /etc/passwd) and
 * Debian's lacks: `USER guest` or `chown squid` would fail there.
 */
export const ALPINE_ONLY_USERS: ReadonlySet<string> = new Set([
  "adm",
  "shutdown",
  "halt",
  "operator",
  "postmaster",
  "cron",
  "ftp",
  "sshd",
  "at",
  "squid",
  "xfs",
  "cyrus",
  "vpopmail",
  "ntp",
  "smmsp",
  "guest",
]);

/** Groups Alpine's base image has and Debian's lacks (a `-G wheel` would fail there). */
export const ALPINE_ONLY_GROUPS: ReadonlySet<string> = new Set([
  "wheel",
  "mem",
  "cron",
  "console",
  "ftp",
  "sshd",
  "input",
  "at",
  "netdev",
  "readproc",
  "squid",
  "xfs",
  "kvm",
  "cdrw",
  "usb",
  "vpopmail",
  "ntp",
  "nofiles",
  "smmsp",
  "locate",
  "abuild",
  "ping",
  "nobody",
]);

// --- busybox applets ------------------------------------------------------

/**
 * Commands Alpine's base image has as busybox applets and Debian's slim
 * image lacks, with the Debian package that provides them.
 */
export const BUSYBOX_APPLETS: Readonly<Record<string, { readonly debian: string; readonly unsafe?: string }>> = {
  wget: { debian: "wget" },
  nc: { debian: "netcat-openbsd", unsafe: "busybox nc and Debian's netcat-openbsd take different options" },
  ps: { debian: "procps" },
  top: { debian: "procps" },
  free: { debian: "procps" },
  pgrep: { debian: "procps" },
  pkill: { debian: "procps" },
  watch: { debian: "procps" },
  sysctl: { debian: "procps" },
  uptime: { debian: "procps" },
  killall: { debian: "psmisc" },
  fuser: { debian: "psmisc" },
  pstree: { debian: "psmisc" },
  less: { debian: "less" },
  ping: { debian: "iputils-ping" },
  ping6: { debian: "iputils-ping" },
  traceroute: { debian: "traceroute" },
  ip: { debian: "iproute2" },
  ifconfig: { debian: "net-tools" },
  route: { debian: "net-tools" },
  netstat: { debian: "net-tools" },
  nslookup: { debian: "bind9-dnsutils" },
  xxd: { debian: "xxd" },
  hexdump: { debian: "bsdextrautils" },
  unzip: { debian: "unzip" },
  bzip2: { debian: "bzip2" },
  bunzip2: { debian: "bzip2" },
  bzcat: { debian: "bzip2" },
  xz: { debian: "xz-utils" },
  unxz: { debian: "xz-utils" },
  xzcat: { debian: "xz-utils" },
  patch: { debian: "patch" },
  dos2unix: { debian: "dos2unix" },
  unix2dos: { debian: "dos2unix" },
  strings: { debian: "binutils" },
  cpio: { debian: "cpio" },
  bc: { debian: "bc" },
  dc: { debian: "dc" },
  lsof: { debian: "lsof" },
  mkpasswd: { debian: "whois" },
  crontab: { debian: "cron", unsafe: "busybox crond and Debian's cron read crontabs from different places" },
  crond: { debian: "cron", unsafe: "busybox crond and Debian's cron take different options" },
};

// --- ash vs dash ----------------------------------------------------------

/**
 * Shell syntax busybox ash (Alpine's /bin/sh) accepts and dash (Debian's
 * /bin/sh) does not: a RUN using it would fail, or do something else, after
 * the switch. Returns one description per kind found.
 */
export function ashOnlySyntax(script: ShellScript): string[] {
  const found = new Set<string>();
  const visit = (statements: readonly Statement[]) => {
    for (const statement of statements) {
      for (const pipeline of statement.andOr.pipelines) {
        for (const command of pipeline.commands) visitCommand(command);
      }
    }
  };
  const visitCommand = (command: Command) => {
    for (const r of command.redirects) {
      if (r.op === "<<<") found.add("here-strings (<<<)");
      if (r.op === "&>" || r.op === "&>>") found.add("&> redirection");
    }
    if (command.kind !== "simple") {
      const text = script.source.slice(command.start, command.end);
      if (command.kind === "test" && text.startsWith("[[")) found.add("[[ … ]] tests");
      else if (command.kind === "test" && /\s==\s/.test(text)) found.add("== in [ ] tests");
      if (command.kind === "arith") found.add("(( … )) arithmetic");
      if (command.kind === "function" && /^function\s/.test(text)) found.add("the function keyword");
      if (command.inner.length > 0) visit(command.inner);
      else scanText(text);
      return;
    }
    scanSimple(command);
  };
  const scanSimple = (command: SimpleCommand) => {
    const name = command.name;
    const args = command.words.slice(1).map((w) => w.value);
    if ((name === "[" || name === "test") && args.includes("==")) found.add("== in [ ] tests");
    if (name === "echo" && args[0] && /^-[neE]*[eE][neE]*$/.test(args[0])) found.add("echo -e");
    if (name === "source") found.add("source (dash only has .)");
    if (name === "let") found.add("let");
    if (name === "set" && args.includes("pipefail")) found.add("set -o pipefail");
    for (const w of command.words) scanText(w.source);
    for (const a of command.assigns) scanText(script.source.slice(a.start, a.end));
  };
  const scanText = (text: string) => {
    if (/\$\{[A-Za-z_]\w*(\/|:\s*-?\d|:\s+-|\^|,)/.test(text)) found.add("${var/…/…} or ${var:offset} expansions");
    if (/\$'/.test(text)) found.add("$'…' quoting");
    if (/\$\{?RANDOM\b/.test(text)) found.add("$RANDOM");
    if (/(^|[\s;&|(])\[\[\s/.test(text)) found.add("[[ … ]] tests");
    if (/\bset\s+-[A-Za-z]*o\s+pipefail\b/.test(text)) found.add("set -o pipefail");
  };
  visit(script.statements);
  return [...found];
}

// --- paths ----------------------------------------------------------------

/** Binaries Alpine packages install at another path (or name) than Debian's. */
export const RENAMED_BINARIES: Readonly<Record<string, { readonly to: string; readonly apk: string }>> = {
  "/sbin/tini": { to: "/usr/bin/tini", apk: "tini" },
  "su-exec": { to: "gosu", apk: "su-exec" },
  "/sbin/su-exec": { to: "/usr/sbin/gosu", apk: "su-exec" },
};

/** busybox ash → bash: bash accepts everything ash adds to POSIX sh. */
export const ASH_TO_BASH: Readonly<Record<string, string>> = {
  "/bin/ash": "/bin/bash",
  ash: "bash",
};
