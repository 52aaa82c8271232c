/**
 * poetry-export: a file that already has a stage named `poetry-export` gets
 * its builder stage under the next free name instead of a silent refusal.
 */
import { describe, expect, it } from "vitest";
import { freeStageName, poetryExport } from "../passes/poetry-export.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions } from "../src/types.js";

const FINAL =
  "FROM python:3.12-slim\nENV POETRY_VIRTUALENVS_CREATE=false\nWORKDIR /srv\nRUN pip install poetry\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --only main --no-root\n";

describe("poetry-export: the builder stage's name", () => {
  it("picks the next free name when poetry-export is taken", () => {
    const text = `FROM python:3.12-slim AS poetry-export\nRUN echo hi\n${FINAL}COPY --from=0 /etc/hostname /x\n`;
    const r = poetryExport.run(parseDockerfile(text), defaultPassOptions);
    expect(r.changes).toHaveLength(1);
    const out = optimizeDockerfile(text, { only: ["poetry-export"], unsafe: true }).output;
    expect(out).toContain("FROM python:3.12-slim AS poetry-export-2\nWORKDIR /src\n");
    expect(out).toContain("COPY --from=poetry-export-2 /src/requirements.txt /tmp/requirements.txt\n");
    // The existing stage and the numeric reference to it are untouched.
    expect(out.startsWith("FROM python:3.12-slim AS poetry-export\nRUN echo hi\n")).toBe(true);
    expect(out).toContain("COPY --from=0 /etc/hostname /x\n");
  });

  it("treats stage names case-insensitively and skips names the file mentions", () => {
    expect(freeStageName(parseDockerfile(FINAL))).toBe("poetry-export");
    expect(freeStageName(parseDockerfile(`FROM python:3 AS Poetry-Export\n${FINAL}`))).toBe("poetry-export-2");
    expect(
      freeStageName(parseDockerfile(`FROM python:3 AS poetry-export\n${FINAL}COPY --from=poetry-export-2 /a /a\n`)),
    ).toBe("poetry-export-3");
  });

  it("its output is a fixed point", () => {
    const text = `FROM python:3.12-slim AS poetry-export\nRUN echo hi\n${FINAL}`;
    const once = optimizeDockerfile(text, { only: ["poetry-export"], unsafe: true }).output;
    expect(once).not.toBe(text);
    expect(optimizeDockerfile(once, { only: ["poetry-export"], unsafe: true }).output).toBe(once);
  });
});
