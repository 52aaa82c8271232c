/**
 * `npm run bench:images`: for every benchmark app in bench/apps, build the
 * original and dfopt's output with a real Docker engine (`dfopt verify`) and
 * report size, layers, cold build and warm rebuild times and the smoke test.
 * Needs `bash scripts/setup-docker.sh` first (engine, local base images,
 * vendored Python packages). Writes bench/results/images.json (with
 * --unsafe: images-unsafe.json, so both modes' results are kept); the last line
 * is machine-readable:
 *   median size change: -NN.N%  median warm rebuild speedup: N.Nx  smoke: P/N
 * Exits 1 if any optimized image fails to build, or fails its smoke test
 * where the original passed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { optimizeDockerfile } from "../src/api.js";
import { verify, withContext, type VerifyReport } from "../src/verify/verify.js";

interface AppSpec {
  readonly name: string;
  readonly dir: string;
  readonly dockerfile: string;
  readonly smoke: string;
  readonly sourceFile: string;
  readonly originalBuildable: boolean;
  /** For an original that can't be built here (Alpine): a hand-written Debian equivalent to compare against. */
  readonly referenceDockerfile?: string;
}

interface Row {
  readonly app: string;
  readonly report: VerifyReport;
  readonly sizeChange: number | null;
  readonly warmSpeedup: number | null;
  readonly ok: boolean;
  /** What "before" is: the original, or a hand-written Debian equivalent of an Alpine original. */
  readonly baseline: "original" | "debian-reference" | "none";
}

const root = path.resolve(import.meta.dirname, "../..");
const appsDir = path.join(root, "bench/apps");
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith("--"));
const unsafe = args.includes("--unsafe");

function loadApps(): AppSpec[] {
  return readdirSync(appsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(appsDir, d.name, "bench.json")))
    .map((d) => {
      const dir = path.join(appsDir, d.name);
      const spec = JSON.parse(readFileSync(path.join(dir, "bench.json"), "utf8")) as Partial<AppSpec>;
      return {
        name: d.name,
        dir,
        dockerfile: spec.dockerfile ?? "Dockerfile",
        smoke: spec.smoke ?? "true",
        sourceFile: spec.sourceFile ?? "app.py",
        originalBuildable: spec.originalBuildable !== false,
        referenceDockerfile: spec.referenceDockerfile,
      };
    })
    .filter((a) => only.length === 0 || only.includes(a.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<number> {
  // The vendored wheels/sdists must sit in each app's context before building.
  execFileSync("bash", [path.join(root, "scripts/prepare-apps.sh")], { stdio: "inherit" });
  const rows: Row[] = [];
  for (const app of loadApps()) {
    process.stderr.write(`\n== ${app.name}\n`);
    const dockerfile = path.join(app.dir, app.dockerfile);
    // An Alpine original can't be built here; its hand-written Debian
    // equivalent stands in as the baseline, and dfopt's conversion of the
    // real original is what gets built as "optimized".
    const reference =
      !app.originalBuildable && app.referenceDockerfile ? path.join(app.dir, app.referenceDockerfile) : null;
    const optimizedRun = reference
      ? optimizeDockerfile(readFileSync(dockerfile, "utf8"), withContext({ unsafe }, dockerfile, app.dir))
      : null;
    const verified = await verify({
      dockerfile: reference ?? dockerfile,
      context: app.dir,
      smoke: app.smoke,
      touch: app.sourceFile,
      optimize: { unsafe },
      optimizedText: optimizedRun?.output,
      skipOriginal: !app.originalBuildable && !reference,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const report = optimizedRun ? { ...verified, changes: optimizedRun.applied.length } : verified;
    const o = report.original;
    const n = report.optimized;
    const sizeChange = o?.sizeBytes && n.sizeBytes ? ((n.sizeBytes - o.sizeBytes) / o.sizeBytes) * 100 : null;
    const warmSpeedup = o?.warmSeconds && n.warmSeconds ? o.warmSeconds / n.warmSeconds : null;
    const smokeRegressed = (o === null || o.smoke === "pass") && n.smoke !== "pass";
    const baseline = app.originalBuildable ? "original" : reference ? "debian-reference" : "none";
    rows.push({ app: app.name, report, sizeChange, warmSpeedup, ok: n.built && !smokeRegressed, baseline });
  }

  const fmt = (v: number | undefined, unit: string, digits = 1) =>
    v === undefined ? "-" : `${v.toFixed(digits)}${unit}`;
  console.log(
    "\n| app | changes | size before | size after | change | layers | warm before | warm after | speedup | smoke before | smoke after |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
  for (const r of rows) {
    const o = r.report.original;
    const n = r.report.optimized;
    console.log(
      `| ${r.app} | ${r.report.changes} | ${fmt(o?.sizeBytes && o.sizeBytes / 1e6, " MB")} | ${fmt(n.sizeBytes && n.sizeBytes / 1e6, " MB")} | ${fmt(r.sizeChange ?? undefined, "%")} | ${o?.layers ?? "-"}→${n.layers ?? "-"} | ${fmt(o?.warmSeconds, " s")} | ${fmt(n.warmSeconds, " s")} | ${fmt(r.warmSpeedup ?? undefined, "x")} | ${o ? o.smoke + (r.baseline === "debian-reference" ? " (Debian reference)" : "") : "not buildable here"} | ${n.built ? n.smoke : "BUILD FAILED"} |`,
    );
  }
  const sizes = rows.flatMap((r) => (r.sizeChange === null ? [] : [r.sizeChange]));
  const speedups = rows.flatMap((r) => (r.warmSpeedup === null ? [] : [r.warmSpeedup]));
  const worstSize = sizes.length ? Math.max(...sizes) : null;
  const worstSpeedup = speedups.length ? Math.min(...speedups) : null;
  const smokePass = rows.filter((r) => r.report.optimized.smoke === "pass").length;
  const medianSize = median(sizes);
  const medianSpeedup = median(speedups);
  console.log(
    `\nworst case: size change ${worstSize?.toFixed(1) ?? "-"}%, warm rebuild speedup ${worstSpeedup?.toFixed(1) ?? "-"}x`,
  );
  for (const r of rows.filter((x) => !x.ok)) {
    console.log(`FAILED: ${r.app}: ${r.report.optimized.error ?? r.report.optimized.smokeOutput ?? "smoke failed"}`);
  }
  mkdirSync(path.join(root, "bench/results"), { recursive: true });
  writeFileSync(
    path.join(root, `bench/results/${unsafe ? "images-unsafe" : "images"}.json`),
    JSON.stringify(
      { unsafe, rows, medianSizeChange: medianSize, medianWarmSpeedup: medianSpeedup, worstSize, worstSpeedup },
      null,
      2,
    ),
  );
  const sign = medianSize !== null && medianSize > 0 ? "+" : "";
  console.log(
    `median size change: ${medianSize === null ? "n/a" : `${sign}${medianSize.toFixed(1)}%`}  median warm rebuild speedup: ${medianSpeedup === null ? "n/a" : `${medianSpeedup.toFixed(1)}x`}  smoke: ${smokePass}/${rows.length}`,
  );
  return rows.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main();
