/**
 * A parser-independent signature of a shell script's structure: statements,
 * their &&/|| operators, pipelines and each simple command's static words.
 * Used to cross-check tree-sitter-bash (what dfopt uses) against mvdan/sh
 * (the reference parser behind shfmt).
 */
import { createRequire } from "node:module";
import type { ShellScript, Statement } from "../src/shell.js";

const require = createRequire(import.meta.url);

/** Signature from dfopt's own shell model. */
export function modelSignature(script: ShellScript): string {
  return statementsSignature(script.statements);
}

function statementsSignature(statements: readonly Statement[]): string {
  return statements
    .map((s) => {
      const parts: string[] = [];
      s.andOr.pipelines.forEach((p, i) => {
        if (i > 0) parts.push(s.andOr.ops[i - 1]!);
        parts.push(
          (p.negated ? "!" : "") +
            p.commands
              .map((c) =>
                c.kind === "simple" ? `[${c.words.map((w) => w.value ?? NON_STATIC).join(" ")}]` : `<${c.kind}>`,
              )
              .join("|"),
        );
      });
      return parts.join(" ") + (s.background ? " &" : "");
    })
    .join(" ; ");
}

/** Marks a word whose value is only known at run time. */
export const NON_STATIC = "\u0000";

/**
 * Whether dfopt's signature is compatible with the reference: equal, except
 * that a word dfopt marks as non-static (the conservative answer: passes leave
 * such words alone) may be anything in the reference, and a test command may
 * be spelled as a `[`/`[[` call there.
 */
export function compatible(ours: string, reference: string): boolean {
  if (ours === reference) return true;
  const pattern = ours
    .split(NON_STATIC)
    .map((piece) =>
      piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/<test>/g, "(?:<test>|\\[\\[.*?\\]\\]|\\[.*?\\])"),
    )
    .join("[\\s\\S]*?");
  return new RegExp(`^${pattern}$`, "s").test(reference);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Go = any;
let mvdan: { syntax: Go } | undefined;
let mvdanParser: Go;

/** Signature from mvdan/sh (GopherJS build), or null when it rejects the script. */
export function mvdanSignature(source: string): string | null {
  mvdan ??= require("mvdan-sh");
  const syntax = mvdan!.syntax;
  mvdanParser ??= syntax.NewParser(syntax.Variant(syntax.LangBash));
  let file: Go;
  try {
    file = mvdanParser.Parse(source, "");
  } catch {
    return null;
  }
  const AND = 10;
  const OR = 11;
  const PIPE = 12;
  const PIPE_ALL = 13;
  const kinds: Record<string, string> = {
    Subshell: "subshell",
    Block: "block",
    IfClause: "if",
    ForClause: "for",
    WhileClause: "while",
    CaseClause: "case",
    FuncDecl: "function",
    TestClause: "test",
    ArithmCmd: "arith",
  };
  const wordValue = (w: Go): string => {
    let v = "";
    for (const part of w.Parts) {
      const t = syntax.NodeType(part);
      // Brace expansion (`a{b,c}`) expands at run time; dfopt's model marks it non-static.
      if (t === "Lit" && part.Value.includes("{") && part.Value.includes(",")) return NON_STATIC;
      if (t === "Lit") v += part.Value.replace(/\\\n/g, "").replace(/\\(.)/g, "$1");
      else if (t === "SglQuoted" && !part.Dollar) v += part.Value;
      else if (t === "DblQuoted" && part.Parts.every((p: Go) => syntax.NodeType(p) === "Lit"))
        v += part.Parts.map((p: Go) => p.Value.replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1")).join("");
      else return NON_STATIC;
    }
    return v;
  };
  const command = (stmt: Go): string => {
    const cmd = stmt.Cmd;
    if (!cmd) return "[]";
    const t = syntax.NodeType(cmd);
    if (t === "CallExpr") return `[${cmd.Args.map(wordValue).join(" ")}]`;
    if (t === "DeclClause") {
      const variant = cmd.Variant ? cmd.Variant.Value : "declare";
      const args = cmd.Args.map((a: Go) => {
        if (a.Naked && a.Value) return wordValue(a.Value);
        if (a.Naked && a.Name) return a.Name.Value;
        if (!a.Value) return `${a.Name.Value}=`;
        const value = wordValue(a.Value);
        return value === NON_STATIC ? NON_STATIC : `${a.Name.Value}=${value}`;
      });
      return `[${[variant, ...args].join(" ")}]`;
    }
    return `<${kinds[t] ?? "other"}>`;
  };
  const pipeline = (stmt: Go): string => {
    const cmd = stmt.Cmd;
    if (cmd && syntax.NodeType(cmd) === "BinaryCmd" && (cmd.Op === PIPE || cmd.Op === PIPE_ALL)) {
      return `${pipeline(cmd.X)}|${pipeline(cmd.Y)}`;
    }
    return command(stmt);
  };
  const andOr = (stmt: Go): string => {
    const cmd = stmt.Cmd;
    if (cmd && syntax.NodeType(cmd) === "BinaryCmd" && (cmd.Op === AND || cmd.Op === OR)) {
      return `${andOr(cmd.X)} ${cmd.Op === AND ? "&&" : "||"} ${andOr(cmd.Y)}`;
    }
    return (stmt.Negated ? "!" : "") + pipeline(stmt);
  };
  return file.Stmts.map((s: Go) => andOr(s) + (s.Background ? " &" : "")).join(" ; ");
}
