/**
 * builder-runner moves the packages from the interpreter's prefix to a user
 * base. These are the ways a file shows that the final image would no longer
 * reach them (each found by auditing the pass's output on real and
 * synthetic Dockerfiles), and the cases that must still split.
 */
import { describe, expect, it } from "vitest";
import { passById } from "../passes/index.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { type BuildContext, defaultPassOptions } from "../src/types.js";

const pass = passById("builder-runner")!;

const SLIM = `FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir psycopg2 gunicorn
COPY . /app
WORKDIR /app
`;

function context(files: Record<string, string>): BuildContext {
  return { dockerignore: null, exists: (p) => p in files, readText: (p) => files[p] ?? null };
}

function outcome(text: string, files: Record<string, string> | null = null) {
  const result = pass.run(parseDockerfile(text), {
    ...defaultPassOptions,
    buildContext: files ? context(files) : null,
  });
  return {
    skips: result.skips.map((s) => s.reason),
    safety: result.changes.map((c) => c.safety),
    unsafeBecause: result.changes.map((c) => c.unsafeBecause ?? ""),
  };
}

describe("builder-runner: the final image must still reach the packages", () => {
  it("splits the plain case (the checks below are what changes it)", () => {
    expect(outcome(`${SLIM}CMD ["gunicorn", "app:app"]\n`)).toEqual({
      skips: [],
      safety: ["safe"],
      unsafeBecause: [""],
    });
  });

  it("refuses a path into the old install prefix", () => {
    expect(outcome(`${SLIM}CMD ["/usr/local/bin/gunicorn", "app:app"]\n`).skips).toEqual([
      expect.stringMatching(/names \/usr\/local\/bin\/gunicorn/),
    ]);
    expect(outcome(`${SLIM}RUN ln -s /usr/local/bin/gunicorn /usr/bin/gunicorn\nCMD ["gunicorn"]\n`).skips).toEqual([
      expect.stringMatching(/names \/usr\/local\/bin\/gunicorn/),
    ]);
    expect(
      outcome(`${SLIM}RUN python -m compileall /usr/local/lib/python3.11/site-packages\nCMD ["gunicorn"]\n`).skips,
    ).toEqual([expect.stringMatching(/site-packages/)]);
  });

  it("keeps paths pip did not make: the interpreter, and files a COPY puts there", () => {
    expect(outcome(`${SLIM}CMD ["/usr/local/bin/python", "app.py"]\n`).safety).toEqual(["safe"]);
    const copied = `${SLIM}COPY start /usr/local/bin/\nCMD ["/usr/local/bin/start"]\n`;
    expect(outcome(copied).safety).toEqual(["safe"]);
  });

  it("on Alpine's python, scripts went to /usr/bin", () => {
    const alpine = `FROM python:3.11-alpine
RUN apk add --no-cache --virtual .build-deps gcc musl-dev \\
 && pip install --no-cache-dir awscli-cwlogs \\
 && apk del .build-deps
ENTRYPOINT ["/usr/bin/aws", "logs"]
`;
    expect(outcome(alpine).skips).toEqual([expect.stringMatching(/names \/usr\/bin\/aws/)]);
  });

  it("refuses a switch to another user at run time", () => {
    const gosu = SLIM.replace("libpq-dev", "libpq-dev gosu");
    expect(outcome(`${gosu}ENTRYPOINT ["gosu", "nobody", "gunicorn", "app:app"]\n`).skips).toEqual([
      expect.stringMatching(/uses gosu/),
    ]);
    expect(outcome(`${SLIM}CMD ["gunicorn", "--user", "www-data", "app:app"]\n`).skips).toEqual([
      expect.stringMatching(/gunicorn with a user option/),
    ]);
    expect(outcome(`${SLIM}CMD su www-data -c "gunicorn app:app"\n`).skips).toEqual([expect.stringMatching(/uses su/)]);
  });

  it("refuses python with the user site off", () => {
    expect(outcome(`${SLIM}CMD ["python", "-s", "app.py"]\n`).skips).toEqual([expect.stringMatching(/python -s/)]);
    expect(outcome(`${SLIM}CMD python3 -I -m app\n`).skips).toEqual([expect.stringMatching(/python -I/)]);
    expect(outcome(`${SLIM}CMD ["sh", "-c", "python -sB app.py"]\n`).skips).toEqual([
      expect.stringMatching(/python -sB/),
    ]);
    // -E only matters where PYTHONUSERBASE finds the packages; under /root/.local HOME does.
    expect(outcome(`${SLIM}CMD ["python", "-E", "app.py"]\n`).safety).toEqual(["safe"]);
    expect(outcome(`${SLIM}CMD ["python", "-c", "import sys; print(sys.path)"]\n`).safety).toEqual(["safe"]);
  });

  it("refuses a VOLUME over the user base", () => {
    expect(outcome(`${SLIM}VOLUME /root\nCMD ["gunicorn"]\n`).skips).toEqual([
      expect.stringMatching(/VOLUME \/root covers \/root\/\.local/),
    ]);
    expect(outcome(`${SLIM}VOLUME ["/data"]\nCMD ["gunicorn"]\n`).safety).toEqual(["safe"]);
  });

  it("refuses build steps it can't see into after the compilers are gone", () => {
    expect(outcome(`${SLIM}RUN ./build.sh\nCMD ["gunicorn"]\n`).skips).toEqual([
      expect.stringMatching(/runs \.\/build\.sh \(a script dfopt can't see into\)/),
    ]);
    expect(outcome(`${SLIM}RUN npm ci\nCMD ["gunicorn"]\n`).skips).toEqual([expect.stringMatching(/runs npm ci/)]);
    // A Python script doesn't compile.
    expect(outcome(`${SLIM}RUN ./manage.py collectstatic --noinput\nCMD ["gunicorn"]\n`).safety).toEqual(["safe"]);
  });

  it("reads an entrypoint script from the build context; unsafe when it can't", () => {
    const text = `${SLIM}COPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["gunicorn", "app:app"]\n`;
    const unread = outcome(text);
    expect(unread.safety).toEqual(["unsafe"]);
    expect(unread.unsafeBecause[0]).toMatch(/runs docker-entrypoint\.sh, which dfopt can't read/);
    expect(outcome(text, { "docker-entrypoint.sh": '#!/bin/sh\nset -e\nexec "$@"\n' }).safety).toEqual(["safe"]);
    expect(outcome(text, { "docker-entrypoint.sh": '#!/bin/sh\nexec setpriv --reuid=1000 "$@"\n' }).skips).toEqual([
      expect.stringMatching(/docker-entrypoint\.sh \(ENTRYPOINT\) uses setpriv/),
    ]);
    // Found through COPY . /app and WORKDIR /app as well.
    const relative = `${SLIM}ENTRYPOINT ["./run.sh"]\n`;
    expect(outcome(relative, { "run.sh": "#!/bin/sh\nsu app -c gunicorn\n" }).skips).toEqual([
      expect.stringMatching(/run\.sh \(ENTRYPOINT\) uses su/),
    ]);
  });

  it("through the engine, a refused split leaves the file as it was", () => {
    const text = `${SLIM}CMD ["/usr/local/bin/gunicorn", "app:app"]\n`;
    expect(optimizeDockerfile(text, { only: ["builder-runner"], unsafe: true }).output).toBe(text);
  });
});
