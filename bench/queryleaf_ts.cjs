// The TypeScript QueryLeaf (@queryleaf/lib, installed by `make node-clients` into
// clients/node) translating SQL in one long-lived node process, driven by bench/translate.py.
//
//   node bench/queryleaf_ts.cjs <path of clients/node/node_modules/@queryleaf/lib>
//
// Protocol, one JSON document per line each way:
//   in  {"corpus": [sql, ...]}      out {"version": "...", "ok": [i, ...], "failed": [[i, msg], ...]}
//   in  {"passes": n}                out {"ns_per_statement": x, "cpu_ns_per_statement": y}
//                                    (n passes over the ok texts; wall and process CPU time)
//   in  {"quit": true}               the process exits
// Translation only: QueryLeaf.parse (node-sql-parser, PostgreSQL mode, plus QueryLeaf's
// rewriting of nested fields and array indexes) and QueryLeaf.compile (AST to MongoDB
// commands). No MongoDB call: DummyQueryLeaf holds a client that never connects, and
// neither parse nor compile touches it. Timed with process.hrtime inside node.
"use strict";

const path = require("path");
const readline = require("readline");

const lib = process.argv[2];
const { DummyQueryLeaf } = require(lib);
const version = require(path.join(lib, "package.json")).version;
const leaf = new DummyQueryLeaf("bench");
let texts = [];

function translate(text) {
  return leaf.compile(leaf.parse(text));
}

function reply(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const message = JSON.parse(line);
  if (message.quit) {
    lines.close();
    return;
  }
  if (message.corpus) {
    const ok = [];
    const failed = [];
    texts = [];
    message.corpus.forEach((text, index) => {
      try {
        translate(text);
        ok.push(index);
        texts.push(text);
      } catch (error) {
        failed.push([index, String(error && error.message ? error.message : error)]);
      }
    });
    reply({ version, ok, failed });
    return;
  }
  const passes = message.passes;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < passes; pass++) {
    for (const text of texts) translate(text);
  }
  const elapsed = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  const count = passes * texts.length;
  reply({
    ns_per_statement: elapsed / count,
    cpu_ns_per_statement: ((used.user + used.system) * 1000) / count,
  });
});
