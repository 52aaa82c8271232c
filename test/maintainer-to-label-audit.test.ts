import { describe, expect, it } from "vitest";
import { labelQuote, maintainerToLabel } from "../passes/maintainer-to-label.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions } from "../src/types.js";

const run = (text: string) => optimizeDockerfile(text, { only: ["maintainer-to-label"] }).output;

/**
 * What BuildKit's lexer (frontend/dockerfile/shell/lex.go processDoubleQuote)
 * reads back from a double-quoted word: the escape character escapes `"`, `$`
 * and itself, and is literal before anything else.
 */
function readBack(quoted: string, escapeChar: string): string {
  expect(quoted.startsWith('"') && quoted.endsWith('"')).toBe(true);
  const body = quoted.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "$") throw new Error(`unescaped $ at ${i}: would expand`);
    if (c === '"') throw new Error(`unescaped " at ${i}: would close the string`);
    if (c === escapeChar && i + 1 < body.length && ['"', "$", escapeChar].includes(body[i + 1]!)) {
      out += body[++i];
      continue;
    }
    out += c;
  }
  return out;
}

describe("maintainer-to-label: the escape directive (audit finding 15)", () => {
  const tricky = 'CORP\\jdoe "John" $HOME `x` a\\"b end';

  it("quotes with the file's escape character so the label reads back as the MAINTAINER text", () => {
    expect(readBack(labelQuote(tricky, "\\"), "\\")).toBe(tricky);
    expect(readBack(labelQuote(tricky, "`"), "`")).toBe(tricky);
    expect(labelQuote("CORP\\jdoe", "`")).toBe('"CORP\\jdoe"');
    expect(labelQuote("a`b", "`")).toBe('"a``b"');
    expect(labelQuote('say "hi" $X', "`")).toBe('"say `"hi`" `$X"');
  });

  it("uses the backtick under # escape=`", () => {
    const text = '# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nMAINTAINER CORP\\jdoe "John"\n';
    expect(run(text)).toBe(
      '# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nLABEL maintainer="CORP\\jdoe `"John`""\n',
    );
  });

  it("keeps the backslash escape by default", () => {
    expect(run('FROM x\nMAINTAINER CORP\\jdoe "John" $USER\n')).toBe(
      'FROM x\nLABEL maintainer="CORP\\\\jdoe \\"John\\" \\$USER"\n',
    );
  });
});

describe("maintainer-to-label: the value is what BuildKit stores as Author", () => {
  it("keeps surrounding quotes: MAINTAINER's text is stored verbatim", () => {
    expect(run('FROM x\nMAINTAINER "Tiago"\n')).toBe('FROM x\nLABEL maintainer="\\"Tiago\\""\n');
    expect(run('FROM x\nMAINTAINER "a" and "b"\n')).toBe('FROM x\nLABEL maintainer="\\"a\\" and \\"b\\""\n');
  });

  it("keeps inner spacing and trailing text, trims the ends", () => {
    expect(run("FROM x\nMAINTAINER   Jane  Doe <j@x.org>   \n")).toBe(
      'FROM x\nLABEL maintainer="Jane  Doe <j@x.org>"\n',
    );
  });

  it("refuses text BuildKit would read as a flag", () => {
    const result = maintainerToLabel.run(parseDockerfile("FROM x\nMAINTAINER --jane\n"), defaultPassOptions);
    expect(result.changes).toEqual([]);
    expect(result.skips[0]?.reason).toMatch(/starts with --/);
  });

  it("is idempotent", () => {
    const once = run('# escape=`\nFROM x\nMAINTAINER a`b "c" $d\n');
    expect(run(once)).toBe(once);
  });
});
