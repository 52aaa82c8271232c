/**
 * How a file writes its continued RUN lines, so chained commands look like
 * the author wrote them: the indentation of continuation lines and whether
 * `&&` starts the next line (`    && b`) or ends the previous one (`a && \`).
 */
import type { ParsedDockerfile } from "../../src/dockerfile.js";

export interface ChainStyle {
  /** Leading whitespace of a continuation line that starts a command. */
  readonly indent: string;
  /** `leading`: `a \` / `    && b`; `trailing`: `a && \` / `    b`. */
  readonly operator: "leading" | "trailing";
}

export const DEFAULT_CHAIN_STYLE: ChainStyle = { indent: "    ", operator: "leading" };

export function detectChainStyle(file: ParsedDockerfile): ChainStyle {
  // Indents of lines that start a command after `&&`, in either style, and of any continuation line.
  const leading = new Map<string, number>();
  const trailing = new Map<string, number>();
  const any = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const escape = file.escapeChar;
  for (const node of file.instructions) {
    if (node.keyword !== "RUN") continue;
    const first = file.lines.lineAt(node.start);
    const last = file.lines.lineAt(node.end);
    let previousEndsWithOperator = false;
    for (let line = first; line <= last; line++) {
      const text = file.lines.lineText(line);
      const trimmed = text.trim();
      if (line > first) {
        if (trimmed === "" || trimmed.startsWith("#")) continue;
        const indent = /^[ \t]*/.exec(text)![0];
        count(any, indent);
        if (/^(&&|\|\|)/.test(trimmed)) count(leading, indent);
        else if (previousEndsWithOperator) count(trailing, indent);
      }
      const code = trimmed.endsWith(escape) ? trimmed.slice(0, -1).trimEnd() : trimmed;
      previousEndsWithOperator = /(&&|\|\|)$/.test(code);
    }
  }
  const total = (map: Map<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
  const operator = total(trailing) > total(leading) ? "trailing" : "leading";
  const indent =
    mostCommon(operator === "leading" ? leading : trailing) ?? mostCommon(any) ?? DEFAULT_CHAIN_STYLE.indent;
  return { indent, operator };
}

/** The most frequent key; ties go to the one the file uses first. */
function mostCommon(map: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  let bestCount = 0;
  for (const [key, n] of map) {
    if (n > bestCount) {
      best = key;
      bestCount = n;
    }
  }
  return best;
}
