/** The real-world Dockerfiles in ../shared/corpus, read in place (never copied). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const SHARED_CORPUS_DIR = path.resolve(import.meta.dirname, "../../../shared/corpus/files");

export function sharedCorpusFiles(): { name: string; text: string }[] {
  if (!existsSync(SHARED_CORPUS_DIR)) return [];
  return readdirSync(SHARED_CORPUS_DIR)
    .filter((f) => f !== "MANIFEST.tsv")
    .sort()
    .map((name) => ({ name, text: readFileSync(path.join(SHARED_CORPUS_DIR, name), "utf8") }));
}
