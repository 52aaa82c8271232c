/**
 * Shell front end: parses a RUN body with tree-sitter-bash and converts its
 * tree into the small, stable model passes reason about. Offsets in this
 * model are UTF-16 offsets into the logical text (see logical.ts), not into
 * the file.
 *
 * Why tree-sitter-bash: measured over the 8,534 shell-form RUN bodies of the
 * shared corpus (bench/shell-parsers.ts), it parses and walks them all in
 * ~0.3 s, where mvdan-sh (GopherJS) needs ~10 s once its tree is read from
 * JavaScript and sh-syntax (mvdan/sh as WASM) ~44 s because it starts a new
 * WASM instance per call. tree-sitter is error-tolerant, so any tree with an
 * ERROR or MISSING node is treated as "does not parse" and passes leave that
 * RUN alone. Its known quirks are fixed up here (see `andOr`), and
 * test/shell-differential.test.ts checks the model against mvdan/sh, the
 * reference parser behind shfmt, on every corpus RUN.
 */
import { createRequire } from "node:module";
import type { SyntaxNode } from "tree-sitter";

const require = createRequire(import.meta.url);
const Parser = require("tree-sitter") as typeof import("tree-sitter");
const Bash = require("tree-sitter-bash") as unknown;

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface ShellWord extends Span {
  /** Source text of the word, quotes included. */
  readonly source: string;
  /** Value after quote removal when the word is static; null if it expands anything. */
  readonly value: string | null;
}

export interface Assignment extends Span {
  readonly name: string;
  readonly value: string | null;
}

export interface Redirect extends Span {
  readonly op: string;
  readonly target: string | null;
}

export interface SimpleCommand extends Span {
  readonly kind: "simple";
  readonly assigns: readonly Assignment[];
  readonly words: readonly ShellWord[];
  readonly redirects: readonly Redirect[];
  /** Static command name (`words[0].value`), or null. */
  readonly name: string | null;
}

export type CompoundKind =
  | "subshell"
  | "block"
  | "if"
  | "for"
  | "while"
  | "case"
  | "function"
  | "test"
  | "arith"
  | "declare"
  | "let"
  | "time"
  | "coproc"
  | "other";

export interface CompoundCommand extends Span {
  readonly kind: CompoundKind;
  readonly redirects: readonly Redirect[];
  /** Statements run in the current shell by this compound (empty for subshells). */
  readonly inner: readonly Statement[];
}

export type Command = SimpleCommand | CompoundCommand;

export interface Pipeline extends Span {
  readonly negated: boolean;
  readonly commands: readonly Command[];
}

export type AndOrOp = "&&" | "||";

/** `p1 && p2 || p3`: pipelines joined left-associatively. */
export interface AndOr extends Span {
  readonly pipelines: readonly Pipeline[];
  /** ops[i] joins pipelines[i] and pipelines[i + 1]. */
  readonly ops: readonly AndOrOp[];
}

export interface Statement extends Span {
  readonly andOr: AndOr;
  readonly background: boolean;
}

export interface ShellComment extends Span {
  readonly text: string;
}

export interface ShellScript {
  readonly source: string;
  readonly statements: readonly Statement[];
  readonly comments: readonly ShellComment[];
}

export type ShellParse =
  { readonly ok: true; readonly script: ShellScript } | { readonly ok: false; readonly error: string };

let parser: InstanceType<typeof Parser> | undefined;

export function parseShell(source: string): ShellParse {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Bash as Parameters<InstanceType<typeof Parser>["setLanguage"]>[0]);
  }
  // tree-sitter's default read buffer is small; give it the whole body at once.
  const tree = parser.parse(source, undefined, { bufferSize: Math.max(1024, source.length * 2 + 16) });
  const root = tree.rootNode;
  if (root.hasError) return { ok: false, error: describeError(root) };
  const comments: ShellComment[] = [];
  const statements = new Converter(comments).statements(root);
  return { ok: true, script: { source, statements, comments } };
}

function describeError(root: SyntaxNode): string {
  const stack: SyntaxNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type === "ERROR" || node.isMissing) {
      const what = node.isMissing ? `missing ${node.type}` : `unexpected ${JSON.stringify(node.text.slice(0, 20))}`;
      return `shell syntax error at line ${node.startPosition.row + 1}: ${what}`;
    }
    for (let i = node.childCount - 1; i >= 0; i--) stack.push(node.child(i)!);
  }
  return "shell syntax error";
}

const REDIRECT_TYPES = new Set(["file_redirect", "heredoc_redirect", "herestring_redirect"]);

const COMPOUND_KINDS: Record<string, CompoundKind> = {
  subshell: "subshell",
  compound_statement: "block",
  if_statement: "if",
  for_statement: "for",
  c_style_for_statement: "for",
  while_statement: "while",
  case_statement: "case",
  function_definition: "function",
  test_command: "test",
};

/** Statement-level node types that run commands (everything else is punctuation). */
const STATEMENT_TYPES = new Set([
  "command",
  "list",
  "pipeline",
  "negated_command",
  "redirected_statement",
  "declaration_command",
  "unset_command",
  "variable_assignment",
  "variable_assignments",
  ...Object.keys(COMPOUND_KINDS),
]);

class Converter {
  constructor(private readonly commentSink: ShellComment[]) {}

  /** The statements directly inside `parent` (a program, block, do group, if…). */
  statements(parent: SyntaxNode): Statement[] {
    const out: Statement[] = [];
    const children = parent.children;
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (child.type === "comment") {
        this.commentSink.push({ start: child.startIndex, end: child.endIndex, text: child.text });
        continue;
      }
      if (
        child.type === "do_group" ||
        child.type === "elif_clause" ||
        child.type === "else_clause" ||
        child.type === "case_item"
      ) {
        out.push(...this.statements(child));
        continue;
      }
      if (!STATEMENT_TYPES.has(child.type)) continue;
      const andOr = this.andOr(child);
      const background = children[i + 1]?.type === "&";
      out.push({ start: child.startIndex, end: child.endIndex, andOr, background });
    }
    return out;
  }

  private andOr(node: SyntaxNode): AndOr {
    const pipelines: Pipeline[] = [];
    const ops: AndOrOp[] = [];
    const visit = (n: SyntaxNode, trailingRedirects: Redirect[]): void => {
      if (n.type === "list") {
        const [left, op, right] = [n.child(0)!, n.child(1)!, n.child(2)!];
        visit(left, []);
        ops.push(op.type === "||" ? "||" : "&&");
        visit(right, trailingRedirects);
        return;
      }
      // tree-sitter-bash quirk: in `a && b >x` it wraps the whole list in the
      // redirect. Bash applies a redirect to the last command only.
      if (n.type === "redirected_statement" && n.child(0)?.type === "list") {
        visit(n.child(0)!, [...this.redirectsOf(n), ...trailingRedirects]);
        return;
      }
      const pipeline = this.pipeline(n);
      if (trailingRedirects.length > 0) {
        const last = pipeline.commands[pipeline.commands.length - 1]!;
        const patched: Command = { ...last, redirects: [...last.redirects, ...trailingRedirects] };
        pipelines.push({ ...pipeline, commands: [...pipeline.commands.slice(0, -1), patched] });
      } else {
        pipelines.push(pipeline);
      }
    };
    visit(node, []);
    return { start: node.startIndex, end: node.endIndex, pipelines, ops };
  }

  private pipeline(node: SyntaxNode): Pipeline {
    let negated = false;
    let inner = node;
    if (inner.type === "negated_command") {
      negated = true;
      inner = inner.namedChildren[0] ?? inner;
    }
    if (inner.type === "pipeline") {
      const commands: Command[] = [];
      for (const child of inner.namedChildren) {
        if (child.type === "comment") continue;
        if (child.type === "negated_command") {
          // `! a | b`: bash negates the whole pipeline; tree-sitter nests it in the first command.
          negated = true;
          commands.push(this.command(child.namedChildren[0] ?? child));
        } else {
          commands.push(this.command(child));
        }
      }
      return { start: node.startIndex, end: node.endIndex, negated, commands };
    }
    return { start: node.startIndex, end: node.endIndex, negated, commands: [this.command(inner)] };
  }

  private redirectsOf(node: SyntaxNode): Redirect[] {
    const out: Redirect[] = [];
    for (const child of node.namedChildren) {
      if (!REDIRECT_TYPES.has(child.type)) continue;
      const target = child.namedChildren.filter((c) => c.type !== "file_descriptor").pop();
      const opNode = child.children.find((c) => !c.isNamed);
      out.push({
        start: child.startIndex,
        end: child.endIndex,
        op: opNode?.type ?? "",
        target: target ? staticValue(target) : null,
      });
    }
    return out;
  }

  private command(node: SyntaxNode): Command {
    const span = { start: node.startIndex, end: node.endIndex };
    if (node.type === "redirected_statement") {
      const body = node.child(0)!;
      const command = REDIRECT_TYPES.has(body.type) ? this.simple(node, span) : this.command(body);
      return { ...command, ...span, redirects: [...command.redirects, ...this.redirectsOf(node)] };
    }
    switch (node.type) {
      case "command":
      case "declaration_command":
      case "unset_command":
      case "variable_assignment":
      case "variable_assignments":
        return this.simple(node, span);
    }
    const kind = COMPOUND_KINDS[node.type] ?? "other";
    if (kind === "block" && node.text.startsWith("((")) {
      // tree-sitter-bash reads `(( i++ ))` as a block holding an expression.
      return { ...span, kind: "arith", redirects: [], inner: [] };
    }
    const inner =
      kind === "subshell" || kind === "function" || kind === "test" || kind === "other" ? [] : this.statements(node);
    return { ...span, kind, redirects: [], inner };
  }

  private simple(node: SyntaxNode, span: Span): SimpleCommand {
    const assigns: Assignment[] = [];
    const words: ShellWord[] = [];
    const redirects: Redirect[] = [];
    const addAssign = (a: SyntaxNode) => {
      const name = a.child(0)?.text ?? "";
      const valueNode = a.childCount >= 3 ? a.child(2)! : null;
      assigns.push({ start: a.startIndex, end: a.endIndex, name, value: valueNode ? staticValue(valueNode) : "" });
    };
    if (node.type === "variable_assignment") addAssign(node);
    for (const child of node.children) {
      if (node.type === "variable_assignment") break;
      switch (child.type) {
        case "variable_assignment":
          if (node.type === "declaration_command") words.push(word(child));
          else addAssign(child);
          break;
        case "variable_assignments":
          for (const a of child.namedChildren) addAssign(a);
          break;
        case "command_name":
          words.push(word(child.namedChildren[0] ?? child));
          break;
        case "file_redirect":
        case "heredoc_redirect":
        case "herestring_redirect":
          redirects.push(...this.redirectsOf({ namedChildren: [child] } as unknown as SyntaxNode));
          break;
        case "comment":
          break;
        default:
          // `export`, `declare`, `unset`… are anonymous keyword tokens.
          if (
            !child.isNamed &&
            (node.type === "declaration_command" || node.type === "unset_command") &&
            /^[a-z]+$/.test(child.type)
          ) {
            words.push({ start: child.startIndex, end: child.endIndex, source: child.text, value: child.text });
          } else if (child.isNamed) {
            words.push(word(child));
          }
      }
    }
    return { ...span, kind: "simple", assigns, words, redirects, name: words[0]?.value ?? null };
  }
}

function word(node: SyntaxNode): ShellWord {
  return { start: node.startIndex, end: node.endIndex, source: node.text, value: staticValue(node) };
}

/** The value of a word made only of literals and quotes; null if it expands. */
function staticValue(node: SyntaxNode): string | null {
  switch (node.type) {
    case "word":
    case "number":
    case "variable_name":
      return unescapeUnquoted(node.text);
    case "raw_string":
      return node.text.slice(1, -1);
    case "variable_assignment": {
      // `export A=b` keeps its assignment as one argument word.
      const value = node.childCount >= 3 ? staticValue(node.child(2)!) : "";
      return value === null ? null : `${node.child(0)?.text ?? ""}=${value}`;
    }
    case "string": {
      let value = "";
      for (const child of node.namedChildren) {
        if (child.type !== "string_content") return null;
        value += child.text.replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1");
      }
      return value;
    }
    case "concatenation": {
      let value = "";
      for (const child of node.namedChildren) {
        const part = staticValue(child);
        if (part === null) return null;
        value += part;
      }
      // `{a,b}` is parsed as a concatenation of words but expands.
      if (node.text.includes("{") && node.text.includes(",")) return null;
      return value;
    }
    default:
      return null;
  }
}

function unescapeUnquoted(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(/\\\n/g, "").replace(/\\(.)/g, "$1");
}
