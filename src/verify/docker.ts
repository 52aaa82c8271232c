/**
 * The Docker engine, driven through the docker CLI. Only `dfopt verify` and
 * the image benchmark use it; the optimizer itself never needs Docker.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/** Debian's client matches Debian's engine; a newer client may not talk to it. */
export const DOCKER = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

export class DockerUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `no Docker daemon is reachable (${detail.trim().split("\n")[0]}).\n` +
        "Start one with `sudo bash scripts/setup-docker.sh` (installs docker.io and starts dockerd), " +
        "or `sudo dockerd &` if Docker is already installed.",
    );
    this.name = "DockerUnavailableError";
  }
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export function docker(
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(DOCKER, args, {
      env: { ...process.env, DOCKER_BUILDKIT: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : null;
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(error), seconds: (performance.now() - started) / 1000 });
    });
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Throws DockerUnavailableError with the command that fixes it. */
export async function requireDocker(): Promise<{ serverVersion: string }> {
  const info = await docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 20_000 });
  if (info.code !== 0 || !info.stdout.trim()) throw new DockerUnavailableError(info.stderr || "docker version failed");
  return { serverVersion: info.stdout.trim() };
}

export async function imageFacts(tag: string): Promise<{ sizeBytes: number; layers: number }> {
  const r = await docker(["image", "inspect", "--format", "{{.Size}} {{len .RootFS.Layers}}", tag]);
  const [size, layers] = r.stdout.trim().split(" ");
  return { sizeBytes: Number(size), layers: Number(layers) };
}

/** Every path in an image's filesystem (via `docker export` of a created container). */
export async function imagePaths(tag: string): Promise<Set<string>> {
  const created = await docker(["create", tag, "true"]);
  const id = created.stdout.trim();
  if (created.code !== 0 || !id) return new Set();
  try {
    const listing = await new Promise<string>((resolve) => {
      const exporter = spawn(DOCKER, ["export", id], { stdio: ["ignore", "pipe", "ignore"] });
      const tar = spawn("tar", ["-t"], { stdio: ["pipe", "pipe", "ignore"] });
      exporter.stdout.pipe(tar.stdin);
      let out = "";
      tar.stdout.on("data", (d: Buffer) => (out += d.toString()));
      tar.on("close", () => resolve(out));
    });
    return new Set(
      listing
        .split("\n")
        .map((p) => "/" + p.replace(/^\.?\//, "").replace(/\/$/, ""))
        .filter((p) => p !== "/"),
    );
  } finally {
    await docker(["rm", "-f", id]);
  }
}

export async function removeImage(tag: string): Promise<void> {
  await docker(["image", "rm", "-f", tag]);
}
