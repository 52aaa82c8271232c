import type { Change, Pass, PassResult } from "../src/types.js";
import { shippedStages } from "./lib/hygiene.js";
import { pipHasOption, pipInstalls } from "./lib/pip-calls.js";
import { analysableRuns, insertAfterWord } from "./lib/runs.js";

const id = "pip-no-compile";

export const pipNoCompile: Pass = {
  meta: {
    id,
    title: "pip install --no-compile (opt-in)",
    summary: "pip install --no-compile, with PYTHONDONTWRITEBYTECODE=1 set by python-env (opt-in)",
    defaultEnabled: false,
    doc: `## What it does
Adds \`--no-compile\` to \`pip install\` in the stages that end up in the image.
When this pass is enabled, the python-env pass also sets
\`ENV PYTHONDONTWRITEBYTECODE=1\` in those stages, so Python never writes the
\`.pyc\` files back at run time either.

## Why
pip compiles every installed module to bytecode; the \`__pycache__\`
directories are often 10–30 % of site-packages (guide 000, "Pip don't
compile python into byte code" and "Python skip bytecode generation").

## Example
\`\`\`dockerfile
RUN pip install -r requirements.txt
\`\`\`
becomes
\`\`\`dockerfile
ENV PYTHONDONTWRITEBYTECODE=1
RUN pip install -r requirements.txt --no-compile
\`\`\`

## Safety
Safe for what the program does; it trades image size for start-up time:
every module is compiled again in memory each time the container starts.
That is why it is opt-in. Guide 000's other option, \`PYTHONPYCACHEPREFIX\`
with an \`rm\` at the end of the RUN, is not applied: with \`--no-compile\`
and \`PYTHONDONTWRITEBYTECODE\` there are no bytecode files left to move.
Not added where \`--compile\` is asked for explicitly.

## References
- guide 000 (\`--no-compile\`, \`PYTHONDONTWRITEBYTECODE\`, \`PYTHONPYCACHEPREFIX\`), guide 001 (\`PYTHONDONTWRITEBYTECODE=1\`)
- pip install options: https://pip.pypa.io/en/stable/cli/pip_install/
`,
  },
  run(file): PassResult {
    const changes: Change[] = [];
    const shipped = shippedStages(file);
    for (const run of analysableRuns(file).runs) {
      if (!shipped.has(run.node.stage)) continue;
      for (const p of pipInstalls(run)) {
        if (pipHasOption(p, "--no-compile") || pipHasOption(p, "--compile")) continue;
        // At the end of the command: pip-hygiene inserts right after `install`, and two
        // insertions at one spot would make the result depend on pass order.
        changes.push({
          pass: id,
          edits: [insertAfterWord(run.node, p.command, p.command.words.length - 1, " --no-compile")],
          reason: "pip install --no-compile leaves the .pyc files out of the image",
          safety: "safe",
        });
      }
    }
    return { changes, skips: [] };
  },
};
