/**
 * Reading and writing Dockerfiles safely. Reads refuse what isn't a text
 * Dockerfile with a message that says what to do; writes are atomic (temp
 * file in the same directory + rename) so an interrupted run never leaves a
 * half-written file, and keep the file's mode.
 */
import { randomBytes } from "node:crypto";
import { promises as fs, constants as fsConstants, unlinkSync } from "node:fs";
import path from "node:path";

export const MAX_FILE_BYTES = 1024 * 1024;

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export async function readDockerfile(file: string): Promise<string> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    throw new InputError(describeFsError(error, file));
  }
  if (stat.isDirectory()) {
    throw new InputError(
      "is a directory; pass the Dockerfile inside it, or the directory to search it for Dockerfiles",
    );
  }
  if (!stat.isFile()) throw new InputError("is not a regular file");
  if (stat.size > MAX_FILE_BYTES) {
    throw new InputError(
      `is ${(stat.size / 1024 / 1024).toFixed(1)} MB; Dockerfiles over 1 MB are skipped (is this really a Dockerfile?)`,
    );
  }
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (error) {
    throw new InputError(describeFsError(error, file));
  }
  if (buffer.includes(0)) throw new InputError("is a binary file, not a Dockerfile");
  return buffer.toString("utf8");
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Temp files being written right now, removed if the process is interrupted. */
const inFlight = new Set<string>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const cleanup = () => {
    for (const tmp of inFlight) {
      try {
        unlinkSync(tmp);
      } catch {
        // already renamed or gone
      }
    }
  };
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
}

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  installCleanup();
  const stat = await fs.stat(file).catch(() => null);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.dfopt-tmp-${process.pid}-${randomBytes(4).toString("hex")}-${path.basename(file)}`);
  inFlight.add(tmp);
  try {
    const handle = await fs.open(
      tmp,
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL,
      stat ? stat.mode & 0o7777 : 0o644,
    );
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (stat) await fs.chmod(tmp, stat.mode & 0o7777);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.unlink(tmp).catch(() => undefined);
    throw new InputError(`could not write: ${describeFsError(error, file)}`);
  } finally {
    inFlight.delete(tmp);
  }
}

function describeFsError(error: unknown, file: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied; check the file's permissions";
    case "EISDIR":
      return "is a directory";
    default:
      return `${(error as Error).message ?? String(error)} (${file})`;
  }
}
