/**
 * uv-install must leave pip alone where `uv pip install --system` would
 * install somewhere else than pip does: a virtualenv or conda environment
 * the RUN's pip belongs to (uv --system ignores virtual environments), or a
 * non-root USER (pip falls back to a user install, uv fails).
 */
import { describe, expect, it } from "vitest";
import { uvInstall } from "../passes/uv-install.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions } from "../src/types.js";

function run(text: string) {
  return uvInstall.run(parseDockerfile(text), defaultPassOptions);
}

function refusal(text: string): string {
  const r = run(text);
  expect(r.changes).toEqual([]);
  expect(r.skips).toHaveLength(1);
  return r.skips[0]!.reason;
}

const base = "FROM python:3.12-slim\n";

describe("uv-install: virtual environments", () => {
  it("refuses when VIRTUAL_ENV or CONDA_PREFIX is set (ENV, ARG, parent stage, on the call)", () => {
    expect(
      refusal(
        `${base}ENV VIRTUAL_ENV=/opt/venv\nRUN python -m venv $VIRTUAL_ENV\nENV PATH="$VIRTUAL_ENV/bin:$PATH"\nRUN pip install flask\n`,
      ),
    ).toMatch(/VIRTUAL_ENV is set.*ignores virtual environments/);
    expect(refusal(`${base}ENV CONDA_PREFIX /opt/conda\nRUN pip install flask\n`)).toMatch(/CONDA_PREFIX is set/);
    expect(refusal(`${base}ARG VIRTUAL_ENV=/v\nRUN pip install flask\n`)).toMatch(/VIRTUAL_ENV is set/);
    expect(refusal(`${base.trim()} AS a\nENV VIRTUAL_ENV=/v\nFROM a\nRUN pip install flask\n`)).toMatch(
      /VIRTUAL_ENV is set/,
    );
    expect(refusal(`${base}RUN VIRTUAL_ENV=/v pip install flask\n`)).toMatch(/the call sets VIRTUAL_ENV/);
    expect(refusal(`${base}RUN env PATH=/v/bin:/usr/local/bin pip install flask\n`)).toMatch(/the call sets PATH/);
  });

  it("refuses when PATH searches another directory before /usr/local/bin", () => {
    expect(refusal(`${base}RUN python -m venv /venv\nENV PATH=/venv/bin:$PATH\nRUN pip install flask\n`)).toMatch(
      /PATH searches \/venv\/bin before \/usr\/local\/bin/,
    );
    expect(refusal(`${base}ENV PATH /opt/conda/bin:$PATH\nRUN python -m pip install flask\n`)).toMatch(
      /\/opt\/conda\/bin/,
    );
    // Expanded in order: the variable's value is the directory searched.
    expect(refusal(`${base}ENV V=/opt/v\nENV PATH=\${V}/bin:\${PATH}\nRUN pip install flask\n`)).toMatch(
      /PATH searches \/opt\/v\/bin/,
    );
    // A variable dfopt can't expand is not proven to be a system directory.
    expect(refusal(`${base}ENV PATH=$HOME/.local/bin:$PATH\nRUN pip install flask\n`)).toMatch(
      /PATH searches \$HOME\/.local\/bin/,
    );
  });

  it("keeps rewriting when PATH only appends or keeps /usr/local/bin first", () => {
    expect(run(`${base}ENV PATH=$PATH:/opt/tools/bin\nRUN pip install flask\n`).changes).toHaveLength(1);
    expect(
      run(`${base}ENV PATH=/usr/local/sbin:/usr/local/bin:/opt/x/bin:$PATH\nRUN pip install x\n`).changes,
    ).toHaveLength(1);
    expect(run(`${base}ENV PATH=/usr/local/bin:$PATH\nRUN pip install flask\n`).skips).toEqual([]);
  });

  it("refuses when the RUN may activate an environment before pip", () => {
    expect(refusal(`${base}RUN . /venv/bin/activate && pip install flask\n`)).toMatch(
      /`\. \/venv\/bin\/activate` runs before pip/,
    );
    expect(refusal(`${base}RUN conda activate x && pip install y\n`)).toMatch(/`conda activate x`/);
    expect(refusal(`${base}RUN source activate x && pip install y\n`)).toMatch(/`source activate x`/);
    expect(refusal(`${base}SHELL ["/bin/bash", "-c"]\nRUN eval "$(conda shell.bash hook)"; pip install y\n`)).toMatch(
      /eval/,
    );
    expect(refusal(`${base}RUN export PATH=/venv/bin:$PATH && pip install y\n`)).toMatch(/changes PATH/);
    expect(refusal(`${base}RUN PATH=/venv/bin:$PATH; pip install y\n`)).toMatch(/changes PATH/);
    expect(refusal(`${base}SHELL ["/bin/bash", "-lc"]\nRUN pip install y\n`)).toMatch(/login or interactive/);
    expect(refusal(`${base}ENV BASH_ENV=/root/.bashrc\nSHELL ["/bin/bash", "-c"]\nRUN pip install y\n`)).toMatch(
      /BASH_ENV/,
    );
  });

  it("an activation after pip doesn't matter", () => {
    expect(run(`${base}RUN pip install y && . /etc/os-release\n`).changes).toHaveLength(1);
  });
});

describe("uv-install: non-root USER", () => {
  it("refuses under a non-root USER, also one inherited from the parent stage", () => {
    expect(refusal(`${base}RUN useradd -m app\nUSER app\nRUN pip install flask\n`)).toMatch(
      /USER app.*permission denied/,
    );
    expect(refusal(`${base.trim()} AS a\nUSER 1000\nFROM a\nRUN pip install flask\n`)).toMatch(/USER 1000/);
  });

  it("rewrites as root, whichever way root is spelled", () => {
    for (const user of ["root", "0", "root:root", "0:0"]) {
      expect(run(`${base}USER app\nUSER ${user}\nRUN pip install flask\n`).changes, user).toHaveLength(1);
    }
  });

  it("the audit's synthetic cases come out unchanged", () => {
    for (const text of [
      `${base}RUN useradd -m app\nUSER app\nRUN pip install flask\n`,
      `${base}RUN python -m venv /venv\nENV PATH=/venv/bin:$PATH\nRUN pip install flask\n`,
    ]) {
      expect(optimizeDockerfile(text, { only: ["uv-install"], unsafe: true }).output).toBe(text);
    }
  });
});
