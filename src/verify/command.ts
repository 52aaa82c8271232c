/**
 * The `dfopt verify` subcommand: human table or --json. Exit codes: 0 the
 * optimized image builds (and passes the smoke command wherever the
 * original did), 1 it regressed, 2 error (no Docker, unbuildable here).
 */
import { Command } from "commander";
import { DockerUnavailableError } from "./docker.js";
import { verify, type VariantReport, type VerifyReport } from "./verify.js";

export function verifyCommand(
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  setExit: (code: number) => void,
): Command {
  return new Command("verify")
    .description(
      "build the original and the optimized Dockerfile with Docker and compare size, layers, build times, files and a smoke test",
    )
    .argument("<dockerfile>", "the Dockerfile to verify")
    .option("--context <dir>", "build context (default: the Dockerfile's directory)")
    .option(
      "--smoke <cmd>",
      "shell command run in both final images; must pass in the optimized one if it passes in the original",
    )
    .option(
      "--touch <file>",
      "source file (relative to the context) edited for the warm-rebuild timing (default: picked from the context)",
    )
    .option("--unsafe", "also apply changes marked unsafe")
    .option("--skip-original", "don't build the original (e.g. its base image can't be pulled here)")
    .option("--keep-images", "keep the built images (tagged dfopt-verify/…)")
    .option("--json", "print the report as JSON")
    .action(
      async (
        dockerfile: string,
        flags: {
          context?: string;
          smoke?: string;
          touch?: string;
          unsafe?: boolean;
          skipOriginal?: boolean;
          keepImages?: boolean;
          json?: boolean;
        },
      ) => {
        try {
          const report = await verify({
            dockerfile,
            context: flags.context,
            smoke: flags.smoke,
            touch: flags.touch,
            optimize: { unsafe: flags.unsafe ?? false },
            skipOriginal: flags.skipOriginal,
            keepImages: flags.keepImages,
            log: flags.json ? undefined : (line) => io.stderr.write(`${line}\n`),
          });
          io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
          setExit(verdict(report));
        } catch (error) {
          if (error instanceof DockerUnavailableError) {
            io.stderr.write(`dfopt verify: ${error.message}\n`);
            setExit(2);
            return;
          }
          throw error;
        }
      },
    );
}

export function verdict(report: VerifyReport): number {
  if (report.unsupported) return 2;
  if (!report.optimized.built) return 1;
  if (report.original?.smoke === "pass" && report.optimized.smoke !== "pass") return 1;
  if (!report.original && report.optimized.smoke === "fail") return 1;
  return 0;
}

export function formatReport(report: VerifyReport): string {
  if (report.unsupported)
    return `cannot build ${report.dockerfile} on Docker ${report.engine}: ${report.unsupported}\n`;
  const o = report.original;
  const n = report.optimized;
  const rows: [string, string, string, string][] = [
    ["build", o ? status(o) : "skipped", status(n), ""],
    ["image size", mb(o?.sizeBytes), mb(n.sizeBytes), percent(o?.sizeBytes, n.sizeBytes)],
    ["layers", String(o?.layers ?? "-"), String(n.layers ?? "-"), ""],
    ["cold build", secs(o?.coldSeconds), secs(n.coldSeconds), ""],
    [
      `warm rebuild${report.touched ? ` (edit ${report.touched})` : ""}`,
      secs(o?.warmSeconds),
      secs(n.warmSeconds),
      speedup(o?.warmSeconds, n.warmSeconds),
    ],
    ["smoke", o?.smoke ?? "-", n.smoke, ""],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  let out = `dfopt verify ${report.dockerfile} (Docker ${report.engine}, ${report.changes} changes applied)\n\n`;
  out += `${"".padEnd(width)}  ${"original".padEnd(12)}  ${"optimized".padEnd(12)}\n`;
  for (const [label, a, b, note] of rows)
    out += `${label.padEnd(width)}  ${a.padEnd(12)}  ${b.padEnd(12)}  ${note}\n`.trimEnd() + "\n";
  if (report.fileTree) {
    const { added, removed } = report.fileTree;
    out += `\nfile tree: ${removed.length} paths only in the original, ${added.length} only in the optimized image (caches, logs and bytecode ignored)\n`;
    for (const p of removed.slice(0, 8)) out += `  - ${p}\n`;
    if (removed.length > 8) out += `  … ${removed.length - 8} more\n`;
    for (const p of added.slice(0, 8)) out += `  + ${p}\n`;
    if (added.length > 8) out += `  … ${added.length - 8} more\n`;
  }
  for (const [name, v] of [
    ["original", o],
    ["optimized", n],
  ] as const) {
    if (v && !v.built) out += `\n${name} build failed:\n${v.error}\n`;
    if (v?.smoke === "fail") out += `\n${name} smoke command failed:\n${v.smokeOutput}\n`;
  }
  return out;
}

function status(v: VariantReport): string {
  return v.built ? "ok" : "FAILED";
}
function mb(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / 1e6).toFixed(1)} MB`;
}
function secs(s: number | undefined): string {
  return s === undefined ? "-" : `${s.toFixed(1)} s`;
}
function percent(before: number | undefined, after: number | undefined): string {
  if (!before || after === undefined) return "";
  const change = ((after - before) / before) * 100;
  return `${change > 0 ? "+" : ""}${change.toFixed(1)}%`;
}
function speedup(before: number | undefined, after: number | undefined): string {
  if (!before || !after) return "";
  return `${(before / after).toFixed(1)}x faster`;
}
