// The SQL benchmark Worker (bench/compare-workerd, rows sql-counter and sql-rows): plain
// Cloudflare Workers code with SQLite-backed Durable Objects (ctx.storage.sql), served unchanged
// by duro and by workerd. Routes (GET):
//   /stateless          "ok" from the Worker, no Durable Object (run.sh's readiness probe)
//   /sql/counter        SQL_COUNTER idFromName("hot"): one upsert of the counter row (INSERT ...
//                       ON CONFLICT DO UPDATE ... RETURNING n), returns the new value
//   /sql/rows           SQL_ROWS idFromName("rows"): inserts 10 rows (one exec, 10 VALUES tuples,
//                       30 bindings), selects the newest 10 back (ORDER BY id DESC LIMIT 10,
//                       toArray), returns how many it read (10; 500 unless they are the 10 it
//                       inserted)
//   /sql/rows-count     SQL_ROWS idFromName("rows"): SELECT count(*), for the check after a run
// anything else        404
import { DurableObject } from "cloudflare:workers";

export class SqlCounter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  }

  async fetch(request) {
    const n = this.sql
      .exec("INSERT INTO counter(id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n")
      .one().n;
    return new Response(String(n));
  }
}

const ROWS_PER_REQUEST = 10;
const INSERT_ROWS =
  "INSERT INTO items(batch, i, payload) VALUES " +
  Array(ROWS_PER_REQUEST).fill("(?, ?, ?)").join(", ");

export class SqlRows extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, " +
        "i INTEGER NOT NULL, payload TEXT NOT NULL)");
    this.batch = 0;
  }

  async fetch(request) {
    if (new URL(request.url).pathname === "/sql/rows-count") {
      return new Response(String(this.sql.exec("SELECT count(*) AS n FROM items").one().n));
    }
    const batch = ++this.batch;
    const bindings = [];
    for (let i = 0; i < ROWS_PER_REQUEST; i++) {
      bindings.push(batch, i, `row ${i} of batch ${batch}`);
    }
    this.sql.exec(INSERT_ROWS, ...bindings);
    const rows = this.sql
      .exec("SELECT id, batch, i, payload FROM items ORDER BY id DESC LIMIT 10")
      .toArray();
    // The newest 10 rows must be this request's (an object runs one request at a time here: no
    // await between the insert and the select).
    if (rows.length !== ROWS_PER_REQUEST || rows.some((r) => r.batch !== batch)) {
      return new Response(`read back ${rows.length} rows, not this request's 10`, { status: 500 });
    }
    return new Response(String(rows.length));
  }
}

function objectFetch(ns, name, request) {
  return ns.get(ns.idFromName(name)).fetch(request);
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/stateless") return new Response("ok");
    if (path === "/sql/counter") return objectFetch(env.SQL_COUNTER, "hot", request);
    if (path === "/sql/rows" || path === "/sql/rows-count") {
      return objectFetch(env.SQL_ROWS, "rows", request);
    }
    return new Response("not found", { status: 404 });
  },
};
