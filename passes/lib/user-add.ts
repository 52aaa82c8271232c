/**
 * What a `useradd` / `adduser` command says about the user it creates, read
 * from its words: one parser for every pass that needs a new user's name,
 * uid or home (cache-mounts: whose cache, and whether the RUN creates the
 * directory a mount would go under).
 */
import type { SimpleCommand } from "../../src/shell.js";

export interface UserAdd {
  readonly tool: "useradd" | "adduser";
  /** The login name (first operand), or null when none is static. */
  readonly name: string | null;
  /** `-u`/`--uid` when numeric. */
  readonly uid: string | null;
  /** `-d`/`--home-dir`/`--home` (adduser: `-h`) as written, or null. */
  readonly home: string | null;
  /** `-b`/`--base-dir`, else /home. */
  readonly baseDir: string;
  /**
   * Whether a home directory is created: adduser (Debian and busybox)
   * creates it unless told not to; useradd does with -m and by default on
   * distributions whose login.defs say CREATE_HOME yes, so assumed.
   */
  readonly createsHome: boolean;
}

/** Options of either tool that take a value (so the next word is not the user name). */
const WITH_VALUE = new Set([
  "-u",
  "--uid",
  "-d",
  "--home-dir",
  "--home",
  "-g",
  "--gid",
  "-G",
  "--groups",
  "-s",
  "--shell",
  "-c",
  "--comment",
  "-k",
  "--skel",
  "-K",
  "--key",
  "-e",
  "--expiredate",
  "-f",
  "--inactive",
  "-p",
  "--password",
  "-b",
  "--base-dir",
  "--gecos",
  "--ingroup",
  "--firstuid",
  "--lastuid",
  "--conf",
  "--add_extra_groups",
  "--extrausers",
]);

export function parseUserAdd(command: SimpleCommand): UserAdd | null {
  const base = command.name?.slice(command.name.lastIndexOf("/") + 1);
  if (base !== "useradd" && base !== "adduser") return null;
  const tool = base;
  const words = command.words.map((w) => w.value);
  let name: string | null = null;
  let uid: string | null = null;
  let home: string | null = null;
  let baseDir = "/home";
  let createsHome = true;
  for (let k = 1; k < words.length; k++) {
    const w = words[k];
    if (w === null || w === undefined) continue;
    const eq = w.indexOf("=");
    const flag = w.startsWith("--") && eq > 0 ? w.slice(0, eq) : w;
    const inline = w.startsWith("--") && eq > 0 ? w.slice(eq + 1) : null;
    if (flag === "-M" || flag === "--no-create-home" || (tool === "adduser" && flag === "-H")) {
      createsHome = false;
    } else if (WITH_VALUE.has(flag) || (tool === "adduser" && flag === "-h")) {
      const value = inline ?? words[++k] ?? null;
      if (flag === "-u" || flag === "--uid") uid = value !== null && /^\d+$/.test(value) ? value : null;
      else if (flag === "-d" || flag === "--home-dir" || flag === "--home" || flag === "-h") home = value;
      else if ((flag === "-b" || flag === "--base-dir") && value !== null) baseDir = value;
    } else if (!w.startsWith("-") && name === null) {
      name = w;
    }
  }
  return { tool, name, uid, home, baseDir, createsHome };
}
