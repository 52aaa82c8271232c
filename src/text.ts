/**
 * Offsets <-> lines for one text. dockerfile-ast reports LSP positions
 * (line, UTF-16 character); passes and edits work in offsets.
 */
export class LineIndex {
  /** Offset of the first character of every line (line 0 starts at 0). */
  private readonly starts: number[];

  constructor(readonly text: string) {
    // Same line breaks as vscode's TextDocument, which dockerfile-ast uses:
    // "\r\n", "\r" and "\n" all end a line.
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 /* \r */) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      } else if (c === 10 /* \n */) {
        starts.push(i + 1);
      }
    }
    this.starts = starts;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  offsetAt(position: { line: number; character: number }): number {
    const start = this.starts[position.line];
    if (start === undefined) return this.text.length;
    return Math.min(start + position.character, this.text.length);
  }

  /** 0-based line holding `offset`. */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  lineStart(line: number): number {
    return this.starts[line] ?? this.text.length;
  }

  /** End of the line's content, before its line break. */
  lineEnd(line: number): number {
    const next = this.starts[line + 1];
    if (next === undefined) return this.text.length;
    let end = next;
    if (this.text.charCodeAt(end - 1) === 10) end--;
    if (this.text.charCodeAt(end - 1) === 13) end--;
    return end;
  }

  lineText(line: number): string {
    return this.text.slice(this.lineStart(line), this.lineEnd(line));
  }
}

/** The dominant line ending, so inserted lines match the file's style. */
export function detectEol(text: string): "\n" | "\r\n" {
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return crlf > lf ? "\r\n" : "\n";
}
