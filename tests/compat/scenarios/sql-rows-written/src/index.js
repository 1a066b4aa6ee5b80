// rowsWritten as Cloudflare bills it: a row inserted counts once plus once per index entry it adds,
// a row updated once plus once per index holding a column the statement sets (even when the value
// does not change), a row deleted once. Schema statements (CREATE TABLE/INDEX) and REPLACE are
// left out: their counts come from SQLite internals that differ between versions.
import { DurableObject } from "cloudflare:workers";

export class Counts extends DurableObject {
  fetch() {
    const sql = this.ctx.storage.sql;
    const written = (query, ...bindings) => {
      const cursor = sql.exec(query, ...bindings);
      cursor.toArray();
      return cursor.rowsWritten;
    };
    sql.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, a, b, c UNIQUE)");
    sql.exec("CREATE INDEX t_a ON t(a)");
    sql.exec("CREATE INDEX t_ab ON t(a, b)");
    sql.exec("CREATE TABLE plain(x)");
    return Response.json({
      insertTwoRowsThreeIndexes: written("INSERT INTO t(a, b, c) VALUES (1, 1, 1), (2, 2, 2)"),
      updateColumnInTwoIndexes: written("UPDATE t SET a = 5 WHERE id = 1"),
      updateColumnInOneIndex: written("UPDATE t SET b = 5 WHERE id = 1"),
      updateToTheSameValue: written("UPDATE t SET a = a WHERE id = 1"),
      deleteOne: written("DELETE FROM t WHERE id = 2"),
      upsertSetsIndexedColumn: written("INSERT INTO t(id, a) VALUES (1, 3) ON CONFLICT(id) DO UPDATE SET a = excluded.a"),
      returning: written("INSERT INTO t(a, b, c) VALUES (7, 7, 7) RETURNING id"),
      deleteWholeTable: written("DELETE FROM t"),
      plainInsert: written("INSERT INTO plain VALUES (1), (2), (3)"),
      plainDelete: written("DELETE FROM plain WHERE x > 1"),
    });
  }
}

export default {
  fetch(request, env) {
    return env.COUNTS.getByName("x").fetch(request);
  },
};
