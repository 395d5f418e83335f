// Parses and analyzes KQL queries with Kusto.Language (see scripts/kql-check).
"use strict";
require("@kusto/language-service-next/bridge");
require("@kusto/language-service-next/Kusto.Language.Bridge");
const fs = require("fs");
const K = Kusto.Language;

const schema = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const tables = Object.entries(schema.tables).map(([name, columns]) => {
  const shape = "(" + Object.entries(columns).map(([c, t]) => `${c}:${t}`).join(", ") + ")";
  return new K.Symbols.TableSymbol.$ctor7(name, shape, null);
});
const database = new K.Symbols.DatabaseSymbol.$ctor3(schema.database, null, tables, false);
const globals = K.GlobalState.Default.WithDatabase(database);

const queries = JSON.parse(fs.readFileSync(0, "utf8"));
for (const { name, query } of queries) {
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const errors = Bridge.toArray(code.GetDiagnostics())
    .filter((d) => d.Severity === "Error")
    .map((d) => `${d.Code} at ${d.Start}: ${d.Message} (near ${JSON.stringify(query.substr(Math.max(0, d.Start - 20), 60))})`);
  process.stdout.write(JSON.stringify({ name, errors }) + "\n");
}
