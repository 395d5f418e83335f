"""Runs a KQL query over rows with duckdb-kql (see scripts/kql-run)."""
import json
import sys

import duckdb_kql

TYPES = {"datetime": "TIMESTAMP", "string": "VARCHAR", "long": "BIGINT", "int": "INTEGER",
         "bool": "BOOLEAN", "dynamic": "JSON"}

schema = json.load(open(sys.argv[1]))
given = json.load(sys.stdin)
con = duckdb_kql.connect()
for table, columns in schema["tables"].items():
    con.sql(f'CREATE TABLE "{table}" (' + ", ".join(f'"{c}" {TYPES[t]}' for c, t in columns.items()) + ")")
    for row in given["rows"].get(table, []):
        names = list(row)
        marks = ", ".join("?" for _ in names)
        con.execute(f'INSERT INTO "{table}" (' + ", ".join(f'"{n}"' for n in names) + f") VALUES ({marks})",
                    [row[n] for n in names])
query = "\n".join(line for line in given["query"].splitlines() if not line.lstrip().startswith("//"))
result = duckdb_kql.kql(con, query)
names = [d[0] for d in result.description]
print(json.dumps([{n: (None if v is None else str(v)) for n, v in zip(names, row)} for row in result.fetchall()]))
