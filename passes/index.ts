/**
 * The pass registry: every pass dfopt knows, in the order the engine runs
 * them within a round. Order must not change the result (the engine iterates
 * to a fixed point and tests check that any order reaches the same one); it
 * only decides which of two conflicting changes goes first.
 */
import type { Pass } from "../src/types.js";
import { addToCopy } from "./add-to-copy.js";
import { alpineToDebian } from "./alpine-to-debian.js";
import { apkHygiene } from "./apk-hygiene.js";
import { archiveCleanup } from "./archive-cleanup.js";
import { builderRunner } from "./builder-runner.js";
import { dockerignore } from "./dockerignore.js";
import { entrypointCrlf } from "./entrypoint-crlf.js";
import { aptHygiene } from "./apt-hygiene.js";
import { cacheMounts } from "./cache-mounts.js";
import { chainRuns } from "./chain-runs.js";
import { gemNoDocument } from "./gem-no-document.js";
import { maintainerToLabel } from "./maintainer-to-label.js";
import { npmCacheClean } from "./npm-cache-clean.js";
import { manifestFirstCopy } from "./manifest-first-copy.js";
import { pipHygiene } from "./pip-hygiene.js";
import { pipNoCompile } from "./pip-no-compile.js";
import { poetryExport } from "./poetry-export.js";
import { pythonBaseImage } from "./python-base-image.js";
import { pythonEnv } from "./python-env.js";
import { uvInstall } from "./uv-install.js";
import { yumHygiene } from "./yum-hygiene.js";

export const allPasses: readonly Pass[] = [
  maintainerToLabel,
  aptHygiene,
  apkHygiene,
  addToCopy,
  pipHygiene,
  pipNoCompile,
  pythonEnv,
  yumHygiene,
  npmCacheClean,
  gemNoDocument,
  archiveCleanup,
  dockerignore,
  entrypointCrlf,
  uvInstall,
  pythonBaseImage,
  poetryExport,
  cacheMounts,
  chainRuns,
  manifestFirstCopy,
  alpineToDebian,
  builderRunner,
];

export function passById(id: string): Pass | undefined {
  return allPasses.find((p) => p.meta.id === id);
}
