#!/usr/bin/env node
// Compiles src/*.sol with the pinned solc-js (package-lock.json) through the
// standard JSON interface and writes artifacts/<Contract>.abi (pretty JSON)
// and artifacts/<Contract>.bin (hex creation bytecode) for every contract in
// the CONTRACTS list. Usage: node scripts/compile.js [OUTDIR]
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const CONTRACTS = ['Marketplace'];
const root = path.resolve(__dirname, '..');
const outDir = path.resolve(process.argv[2] || path.join(root, 'artifacts'));

const sources = {};
for (const name of fs.readdirSync(path.join(root, 'src')).sort()) {
  if (name.endsWith('.sol')) {
    sources['src/' + name] = { content: fs.readFileSync(path.join(root, 'src', name), 'utf8') };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 10000 },
    viaIR: false,
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};

function findImports(p) {
  for (const base of [path.join(root, 'node_modules'), root]) {
    const f = path.join(base, p);
    if (fs.existsSync(f)) return { contents: fs.readFileSync(f, 'utf8') };
  }
  return { error: 'not found: ' + p };
}

const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
let failed = false;
for (const e of out.errors || []) {
  // Warnings inside pinned dependencies are theirs to fix (OpenZeppelin's tstore note).
  if (e.severity !== 'error' && e.sourceLocation && e.sourceLocation.file.startsWith('@openzeppelin/')) continue;
  process.stderr.write(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);

fs.mkdirSync(outDir, { recursive: true });
for (const name of CONTRACTS) {
  const file = Object.keys(out.contracts).find((f) => out.contracts[f][name]);
  if (!file) {
    process.stderr.write('compile.js: contract ' + name + ' not found\n');
    process.exit(1);
  }
  const c = out.contracts[file][name];
  fs.writeFileSync(path.join(outDir, name + '.abi'), JSON.stringify(c.abi, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, name + '.bin'), c.evm.bytecode.object + '\n');
}
process.stdout.write('compiled ' + CONTRACTS.join(', ') + ' with solc ' + solc.version() + ' into ' + outDir + '\n');
