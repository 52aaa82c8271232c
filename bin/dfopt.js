#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
import { main } from "../dist/src/cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`dfopt: internal error (please report): ${error?.stack ?? error}\n`);
    process.exitCode = 2;
  },
);
