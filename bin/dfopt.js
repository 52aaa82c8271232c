#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
// The V8 tuning comes first, before any dfopt code is compiled (src/v8-tuning.ts says why).
import "../dist/src/v8-tuning.js";
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
