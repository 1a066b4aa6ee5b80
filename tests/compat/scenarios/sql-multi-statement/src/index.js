// Several statements separated by `;` in one sql.exec(): every statement but the last runs
// during exec() and its rows are discarded; the cursor (rows, columnNames, rowsRead,
// rowsWritten) is the last statement's. An error stops the script where it happens, keeping
// what the earlier statements did. Empty scripts and empty trailing statements are errors.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

export class Scripts extends DurableObject {
  fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    const titles = () => sql.exec("SELECT b FROM m ORDER BY a").raw().toArray().map((r) => r[0]);
    const summary = (cursor) => ({ columnNames: cursor.columnNames, rows: cursor.toArray(), rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten });
    switch (url.pathname) {
      case "/script":
        return Response.json({
          create: attempt(() => summary(sql.exec(
            "CREATE TABLE m(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO m(b) VALUES ('x'), ('y'); SELECT * FROM m; INSERT INTO m(b) VALUES ('z')"))),
          lastSelect: attempt(() => summary(sql.exec("SELECT a FROM m WHERE a = 1; SELECT b FROM m ORDER BY a"))),
          selectThenUpdate: attempt(() => summary(sql.exec("SELECT b FROM m ORDER BY a; UPDATE m SET b = b || '!' WHERE b < 'z'"))),
          twoSelects: attempt(() => summary(sql.exec("SELECT 1 AS one; SELECT 2 AS two, 3 AS three"))),
          titles: titles(),
        });
      case "/eager": {
        // The last statement also runs (its first step) during exec(), before the cursor is read.
        const cursor = sql.exec("INSERT INTO m(b) VALUES ('e1'); SELECT count(*) AS n FROM m; INSERT INTO m(b) VALUES ('e2')");
        const seenBefore = sql.exec("SELECT count(*) AS n FROM m WHERE b IN ('e1', 'e2')").one().n;
        return Response.json({ seenBefore, rows: cursor.toArray(), titles: titles() });
      }
      case "/bindings":
        return Response.json({
          lastOnly: attempt(() => sql.exec("INSERT INTO m(b) VALUES ('b1'); SELECT b FROM m WHERE b = ?", "b1").toArray()),
          inFirst: attempt(() => sql.exec("INSERT INTO m(b) VALUES (?); SELECT 1 AS one", "b2").toArray()),
          inBoth: attempt(() => sql.exec("SELECT ? AS p; SELECT ? AS q", "one", "two").toArray()),
          titles: titles(),
        });
      case "/errors":
        return Response.json({
          missingTable: attempt(() => sql.exec("INSERT INTO m(b) VALUES ('before'); INSERT INTO nope VALUES (1); INSERT INTO m(b) VALUES ('after')").toArray()),
          syntax: attempt(() => sql.exec("INSERT INTO m(b) VALUES ('s1'); SELEC oops; INSERT INTO m(b) VALUES ('s2')").toArray()),
          constraint: attempt(() => sql.exec("INSERT INTO m(a, b) VALUES (100, 'c1'); INSERT INTO m(a, b) VALUES (100, 'c2'); INSERT INTO m(b) VALUES ('c3')").toArray()),
          titles: titles(),
        });
      case "/whitespace": {
        const queries = [
          "SELECT 1 AS a;", "SELECT 1 AS a; ", "SELECT 1 AS a;\n\n", "SELECT 1 AS a;\t", "  SELECT 1 AS a  \n\t",
          "SELECT 1 AS a -- comment", ";SELECT 1 AS a", "/* c */ SELECT 1 AS a",
          "SELECT 1 AS a;;", "SELECT 1 AS a; -- comment", "SELECT 1 AS a; /* c */",
          "", "   ", ";", "-- only a comment",
        ];
        return Response.json(queries.map((q) => [q, attempt(() => sql.exec(q).toArray())]));
      }
      case "/titles":
        return Response.json(titles());
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.SCRIPTS.getByName("scripts").fetch(request);
  },
};
