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
import type { SyntaxNode, Tree } from "tree-sitter";
import { rememberBounded } from "./memo.js";

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

/**
 * Parses are memoised by source: the engine re-parses the whole file every
 * round, but most RUN bodies come through unchanged, and the model is
 * immutable, so sharing it is safe. Bounded so a huge batch can't grow it.
 */
const cache = new Map<string, ShellParse>();
const CACHE_LIMIT = 512;

export function parseShell(source: string): ShellParse {
  const cached = cache.get(source);
  if (cached) return cached;
  const parsed = parseUncached(source);
  rememberBounded(cache, source, parsed, CACHE_LIMIT);
  return parsed;
}

function parseUncached(source: string): ShellParse {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Bash as Parameters<InstanceType<typeof Parser>["setLanguage"]>[0]);
  }
  // tree-sitter's default read buffer is small; give it the whole body at once.
  const tree = parser.parse(source, undefined, { bufferSize: Math.max(1024, source.length * 2 + 16) });
  const root = tree.rootNode;
  if (root.hasError) return { ok: false, error: describeError(root) };
  const comments: ShellComment[] = [];
  const converter = new Converter(comments);
  const statements = converter.statements(materialize(tree, source));
  // A construct the model doesn't know is treated like a syntax error: passes
  // leave the RUN alone rather than reason about a partial picture.
  if (converter.unknown) return { ok: false, error: `unsupported shell construct (${converter.unknown})` };
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

/**
 * The subset of a tree-sitter node the converter reads, as a plain object.
 * Reading node properties through node-tree-sitter marshals every node
 * across the native boundary on each access; one cursor walk copies the tree
 * into these objects ~3.5x faster than reading `children` (measured over
 * the corpus's 8,779 RUN bodies), and the converter then reads plain fields.
 */
class TreeNode {
  readonly children: TreeNode[] = [];
  private named: TreeNode[] | undefined;

  constructor(
    readonly type: string,
    readonly isNamed: boolean,
    readonly startIndex: number,
    readonly endIndex: number,
    private readonly source: string,
  ) {}

  get text(): string {
    return this.source.slice(this.startIndex, this.endIndex);
  }
  get childCount(): number {
    return this.children.length;
  }
  child(index: number): TreeNode | null {
    return this.children[index] ?? null;
  }
  get namedChildren(): TreeNode[] {
    this.named ??= this.children.filter((c) => c.isNamed);
    return this.named;
  }
  get namedChildCount(): number {
    return this.namedChildren.length;
  }
}

/** Iterative (no recursion): a RUN of thousands of `&&`s nests as deep, and must not overflow the stack. */
function materialize(tree: Tree, source: string): TreeNode {
  const cursor = tree.walk();
  const here = () => new TreeNode(cursor.nodeType, cursor.nodeIsNamed, cursor.startIndex, cursor.endIndex, source);
  const root = here();
  const parents: TreeNode[] = [];
  let current = root;
  for (;;) {
    if (cursor.gotoFirstChild()) {
      parents.push(current);
    } else {
      while (!cursor.gotoNextSibling()) {
        if (parents.length === 0 || !cursor.gotoParent()) return root;
        parents.pop();
      }
    }
    current = here();
    parents[parents.length - 1]!.children.push(current);
  }
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
  /** Type of the first node the model has no place for, if any. */
  unknown: string | null = null;

  constructor(private readonly commentSink: ShellComment[]) {}

  /** The statements directly inside `parent` (a program, block, do group, if…). */
  statements(parent: TreeNode): Statement[] {
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

  private andOr(node: TreeNode): AndOr {
    const pipelines: Pipeline[] = [];
    const ops: AndOrOp[] = [];
    const trailingWords: ShellWord[] = [];
    // `prefix`: pipeline elements that belong in front of the leftmost pipeline
    // of `n` (see the `a | b && c` quirk below). Lists nest one level per
    // operator, so the walk keeps its own stack of steps (run last-in,
    // first-out, in the order recursion would) instead of recursing.
    type Step =
      | { readonly n: TreeNode; readonly trailingRedirects: Redirect[]; readonly prefix: Command[] }
      | { readonly op: AndOrOp };
    const steps: Step[] = [];
    const visit = (n: TreeNode, trailingRedirects: Redirect[], prefix: Command[]): void => {
      steps.push({ n, trailingRedirects, prefix });
    };
    const step = (n: TreeNode, trailingRedirects: Redirect[], prefix: Command[]): void => {
      if (n.type === "list") {
        const [left, op, right] = [n.child(0)!, n.child(1)!, n.child(2)!];
        visit(right, trailingRedirects, []);
        steps.push({ op: op.type === "||" ? "||" : "&&" });
        visit(left, [], prefix);
        return;
      }
      // tree-sitter-bash quirk: in `a && b >x` it wraps the whole list in the
      // redirect. Bash applies a redirect to the last command only.
      if (
        n.type === "redirected_statement" &&
        ["list", "pipeline", "negated_command"].includes(n.child(0)?.type ?? "")
      ) {
        const parts = this.redirectParts(n);
        trailingWords.push(...parts.extraWords);
        visit(n.child(0)!, [...parts.redirects, ...trailingRedirects], prefix);
        return;
      }
      // tree-sitter-bash quirk: `a | b | c && d` comes out as `a | (b | c && d)`.
      // In the shell `|` binds tighter than `&&`/`||`: hoist the list out.
      const elements = n.type === "pipeline" ? n.namedChildren.filter((c) => c.type !== "comment") : [];
      const last = elements[elements.length - 1];
      if (last && (last.type === "list" || (last.type === "redirected_statement" && last.child(0)?.type === "list"))) {
        const leading = [...prefix, ...elements.slice(0, -1).map((c) => this.command(c))];
        visit(last, trailingRedirects, leading);
        return;
      }
      const pipeline = this.pipeline(n);
      let commands = [...prefix, ...pipeline.commands];
      if (trailingRedirects.length > 0) {
        let lastCommand = commands[commands.length - 1]!;
        lastCommand = { ...lastCommand, redirects: [...lastCommand.redirects, ...trailingRedirects] };
        if (lastCommand.kind === "simple" && trailingWords.length > 0) {
          const words = joinAdjacent(
            [...lastCommand.words, ...trailingWords.splice(0)].sort((a, b) => a.start - b.start),
          );
          lastCommand = { ...lastCommand, words, name: words[0]?.value ?? null };
        }
        // The command (and its pipeline) span its redirects and words too, so
        // an edit "after the command" lands after `> file`, not before it.
        const end = Math.max(
          lastCommand.end,
          ...lastCommand.redirects.map((r) => r.end),
          ...(lastCommand.kind === "simple" ? lastCommand.words.map((w) => w.end) : []),
        );
        lastCommand = { ...lastCommand, end };
        commands = [...commands.slice(0, -1), lastCommand];
      }
      const start = prefix.length > 0 ? prefix[0]!.start : pipeline.start;
      const end = Math.max(pipeline.end, commands[commands.length - 1]!.end);
      pipelines.push({ ...pipeline, start, end, commands });
    };
    visit(node, [], []);
    while (steps.length > 0) {
      const next = steps.pop()!;
      if ("op" in next) ops.push(next.op);
      else step(next.n, next.trailingRedirects, next.prefix);
    }
    return { start: node.startIndex, end: node.endIndex, pipelines, ops };
  }

  private pipeline(node: TreeNode): Pipeline {
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

  /** Redirects among `node`'s children, or `node` itself when `self` (a redirect node). */
  private redirectsOf(node: TreeNode, self = false): Redirect[] {
    return this.redirectParts(node, self).redirects;
  }

  /**
   * Redirects of a node, plus words tree-sitter-bash wrongly put inside a
   * redirect: in `echo a > f b`, bash passes `b` to echo; tree-sitter makes
   * it a second destination of `>`.
   */
  private redirectParts(node: TreeNode, self = false): { redirects: Redirect[]; extraWords: ShellWord[] } {
    const redirects: Redirect[] = [];
    const extraWords: ShellWord[] = [];
    for (const child of self ? [node] : node.namedChildren) {
      if (!REDIRECT_TYPES.has(child.type)) continue;
      const operands = child.namedChildren.filter((c) => c.type !== "file_descriptor");
      const target = child.type === "file_redirect" ? operands[0] : operands[operands.length - 1];
      const extras = child.type === "file_redirect" ? operands.slice(1) : [];
      const opNode = child.children.find((c) => !c.isNamed);
      const end = extras.length > 0 ? target!.endIndex : child.endIndex;
      redirects.push({
        start: child.startIndex,
        end,
        op: opNode?.type ?? "",
        target: target ? staticValue(target) : null,
      });
      extraWords.push(...extras.map(word));
    }
    return { redirects, extraWords };
  }

  private command(node: TreeNode): Command {
    const span = { start: node.startIndex, end: node.endIndex };
    if (node.type === "redirected_statement") {
      const body = node.child(0)!;
      const command = REDIRECT_TYPES.has(body.type) ? this.simple(node, span) : this.command(body);
      const { redirects, extraWords } = this.redirectParts(node);
      const withRedirects = { ...command, ...span, redirects: [...command.redirects, ...redirects] };
      if (extraWords.length === 0 || withRedirects.kind !== "simple") return withRedirects;
      const words = joinAdjacent([...withRedirects.words, ...extraWords].sort((a, b) => a.start - b.start));
      return { ...withRedirects, words, name: words[0]?.value ?? null };
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
    if (kind === "other") this.unknown ??= node.type;
    if (kind === "block" && node.text.startsWith("((")) {
      // tree-sitter-bash reads `(( i++ ))` as a block holding an expression.
      return { ...span, kind: "arith", redirects: [], inner: [] };
    }
    const inner =
      kind === "subshell" || kind === "function" || kind === "test" || kind === "other" ? [] : this.statements(node);
    return { ...span, kind, redirects: [], inner };
  }

  private simple(node: TreeNode, span: Span): SimpleCommand {
    const assigns: Assignment[] = [];
    const words: ShellWord[] = [];
    const redirects: Redirect[] = [];
    const addAssign = (a: TreeNode) => {
      const name = a.child(0)?.text ?? "";
      const valueNode = a.childCount >= 3 ? a.child(2)! : null;
      assigns.push({ start: a.startIndex, end: a.endIndex, name, value: valueNode ? staticValue(valueNode) : "" });
    };
    if (node.type === "variable_assignment") addAssign(node);
    for (const child of node.children) {
      if (node.type === "variable_assignment") break;
      switch (child.type) {
        case "variable_assignment":
          // After the command name, `if=/dev/zero` (dd) is an ordinary argument.
          if (node.type === "declaration_command" || words.length > 0) words.push(word(child));
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
          redirects.push(...this.redirectsOf(child, true));
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
    const joined = joinAdjacent(words);
    return { ...span, kind: "simple", assigns, words: joined, redirects, name: joined[0]?.value ?? null };
  }
}

/**
 * Shell words are split by blanks only, so two argument nodes with no gap
 * between them are one word. tree-sitter-bash sometimes splits a word (e.g.
 * `a-$V.tar.gz` after an earlier `$V`); rejoin such pieces.
 */
function joinAdjacent(words: ShellWord[]): ShellWord[] {
  const out: ShellWord[] = [];
  for (const w of words) {
    const last = out[out.length - 1];
    if (last && last.end === w.start) {
      const value = last.value !== null && w.value !== null ? last.value + w.value : null;
      out[out.length - 1] = { start: last.start, end: w.end, source: last.source + w.source, value };
    } else {
      out.push(w);
    }
  }
  return out;
}

function word(node: TreeNode): ShellWord {
  return { start: node.startIndex, end: node.endIndex, source: node.text, value: staticValue(node) };
}

/** The value of a word made only of literals and quotes; null if it expands. */
function staticValue(node: TreeNode): string | null {
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
      // Only the two quotes may be anonymous; a bare `$` piece means tree-sitter
      // saw an expansion-like `$` (e.g. `"a$|b"`) that it did not name.
      if (node.children.filter((c) => !c.isNamed).length > 2) return null;
      // `" "`: blanks only, which tree-sitter keeps in no child at all.
      if (node.namedChildCount === 0) return node.text.slice(1, -1);
      let value = "";
      for (const child of node.namedChildren) {
        if (child.type !== "string_content") return null;
        value += child.text.replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1");
      }
      return value;
    }
    case "concatenation": {
      // An anonymous `$` piece is an expansion tree-sitter failed to name.
      if (node.children.some((c) => !c.isNamed)) return null;
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
