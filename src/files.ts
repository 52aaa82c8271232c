/**
 * Reading and writing Dockerfiles safely. Reads refuse what isn't a text
 * Dockerfile with a message that says what to do; writes are atomic (temp
 * file in the same directory + rename) so an interrupted run never leaves a
 * half-written file, and keep the file's mode. A symlink is written through
 * (its target is replaced, the link stays a link).
 *
 * Interruption: `stopWrites()` makes new writes refuse to start and waits
 * for the ones in flight to finish (each either renamed into place or its
 * temp file removed), so after it resolves every file is the original or
 * the complete output. The CLI calls it on Ctrl-C before exiting.
 */
import { randomBytes } from "node:crypto";
import { promises as fs, constants as fsConstants, readFileSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";

export const MAX_FILE_BYTES = 1024 * 1024;

/** What was wrong with an input, so callers can tell "skip" from "error". */
export type InputProblem =
  | "missing"
  | "permission"
  | "directory"
  | "not-a-file"
  | "too-large"
  | "binary"
  | "encoding"
  | "write-failed"
  | "interrupted"
  | "other";

export class InputError extends Error {
  constructor(
    message: string,
    readonly problem: InputProblem = "other",
  ) {
    super(message);
    this.name = "InputError";
  }
}

/**
 * Reads a Dockerfile, refusing what isn't one. Synchronous on purpose: batch
 * workers have nothing else to do meanwhile, and a small read from the page
 * cache costs less than the event-loop round trips of the async API.
 */
export function readDockerfileSync(file: string): string {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    throw fsInputError(error, file);
  }
  if (stat.isDirectory()) {
    throw new InputError(
      "is a directory; pass the Dockerfile inside it, or the directory to search it for Dockerfiles",
      "directory",
    );
  }
  // Checked before opening: reading a FIFO or a device could block forever.
  if (!stat.isFile()) throw new InputError("is not a regular file", "not-a-file");
  if (stat.size > MAX_FILE_BYTES) {
    throw new InputError(
      `is ${(stat.size / 1024 / 1024).toFixed(1)} MB; Dockerfiles over 1 MB are skipped (is this really a Dockerfile?)`,
      "too-large",
    );
  }
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch (error) {
    throw fsInputError(error, file);
  }
  return decodeDockerfile(buffer);
}

export async function readDockerfile(file: string): Promise<string> {
  return readDockerfileSync(file);
}

function decodeDockerfile(buffer: Buffer): string {
  if (buffer.length > MAX_FILE_BYTES) {
    throw new InputError("is over 1 MB; Dockerfiles over 1 MB are skipped (is this really a Dockerfile?)", "too-large");
  }
  if (buffer.includes(0)) throw new InputError("is a binary file, not a Dockerfile", "binary");
  try {
    return utf8.decode(buffer);
  } catch {
    // Decoding would replace the bad bytes, and writing back would change them.
    throw new InputError(
      "is not valid UTF-8; dfopt only rewrites UTF-8 files (re-encode it, e.g. `iconv -t UTF-8`, to optimize it)",
      "encoding",
    );
  }
}

/** Strict: invalid bytes throw instead of becoming U+FFFD; a BOM is kept for the engine to see. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Temp files that exist right now; removed at exit if still there. */
const tempFiles = new Set<string>();
/** Writes in flight, so an interruption can wait for them. */
const writesInFlight = new Set<Promise<void>>();
let stopped = false;
let exitCleanupInstalled = false;

/** Synchronously removes any temp file still on disk (exit handlers, second Ctrl-C). */
export function removeTempFiles(): void {
  for (const tmp of tempFiles) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or gone
    }
    tempFiles.delete(tmp);
  }
}

/**
 * Refuses new writes and waits for those in flight. After it resolves no
 * temp file of this process remains and no file is half-written.
 */
export async function stopWrites(): Promise<void> {
  stopped = true;
  while (writesInFlight.size > 0) await Promise.allSettled([...writesInFlight]);
  removeTempFiles();
}

export function writeFileAtomic(file: string, content: string): Promise<void> {
  if (stopped) return Promise.reject(new InputError("not written: dfopt was interrupted", "interrupted"));
  if (!exitCleanupInstalled) {
    exitCleanupInstalled = true;
    process.on("exit", removeTempFiles);
  }
  const write = doWrite(file, content);
  const tracked = write.then(
    () => undefined,
    () => undefined,
  );
  writesInFlight.add(tracked);
  void tracked.then(() => writesInFlight.delete(tracked));
  return write;
}

async function doWrite(file: string, content: string): Promise<void> {
  // Write through symlinks: replacing the link itself would turn it into a copy.
  const target = await fs.realpath(file).catch(() => file);
  const stat = await fs.stat(target).catch(() => null);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.dfopt-tmp-${process.pid}-${randomBytes(4).toString("hex")}-${path.basename(target)}`);
  tempFiles.add(tmp);
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
    // open() applied the umask; chmod restores the exact original mode.
    if (stat) await fs.chmod(tmp, stat.mode & 0o7777);
    await fs.rename(tmp, target);
    tempFiles.delete(tmp);
  } catch (error) {
    await fs.unlink(tmp).catch(() => undefined);
    tempFiles.delete(tmp);
    throw new InputError(`could not write: ${describeFsError(error, file)}`, "write-failed");
  }
}

function fsInputError(error: unknown, file: string): InputError {
  const code = (error as NodeJS.ErrnoException).code;
  const problem: InputProblem =
    code === "ENOENT" || code === "ENOTDIR"
      ? "missing"
      : code === "EACCES" || code === "EPERM"
        ? "permission"
        : code === "EISDIR"
          ? "directory"
          : "other";
  return new InputError(describeFsError(error, file), problem);
}

function describeFsError(error: unknown, file: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return "no such file or directory; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied; check the file's permissions";
    case "EISDIR":
      return "is a directory";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return `${(error as Error).message ?? String(error)} (${file})`;
  }
}
