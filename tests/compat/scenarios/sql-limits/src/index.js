// Cloudflare's documented SQL limits, at and just over each one: columns per table (100),
// statement length (100 KB), bound parameters (100), function arguments (32), LIKE/GLOB pattern
// length (50 bytes), string/BLOB/row size (2 MB); plus the compound SELECT, expression depth
// and trigger depth limits workerd applies. The object keeps working after each refusal.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

const list = (n, f) => Array.from({ length: n }, (_, i) => f(i));

export class Wide extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log(n INTEGER PRIMARY KEY, what TEXT)");
  }

  // After a refused statement the object still reads and writes.
  stillWorks(what) {
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT INTO log(what) VALUES (?)", what);
    return sql.exec("SELECT count(*) AS n FROM log").one().n;
  }

  fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    switch (url.pathname) {
      case "/columns": {
        const cols = (n) => list(n, (i) => `c${i}`).join(", ");
        return Response.json({
          create100: attempt(() => sql.exec(`CREATE TABLE w100(${cols(100)})`).toArray()),
          create101: attempt(() => sql.exec(`CREATE TABLE w101(${cols(101)})`).toArray()),
          addColumn: attempt(() => sql.exec("ALTER TABLE w100 ADD COLUMN extra").toArray()),
          select100: attempt(() => sql.exec(`SELECT ${list(100, (i) => i).join(", ")}`).raw().toArray()[0].length),
          select101: attempt(() => sql.exec(`SELECT ${list(101, (i) => i).join(", ")}`).raw().toArray()[0].length),
          insert100: attempt(() => sql.exec(`INSERT INTO w100 VALUES (${list(100, (i) => i).join(", ")})`).rowsWritten),
          tables: sql.exec("SELECT name FROM sqlite_master WHERE name LIKE 'w1%' ORDER BY name").raw().toArray(),
          stillWorks: this.stillWorks("columns"),
        });
      }
      case "/statement-length": {
        const padded = (len) => { const q = "SELECT 1 AS a"; return q + " ".repeat(len - q.length); };
        // 100,000 bytes of UTF-8 in fewer characters: the limit counts bytes.
        const utf8 = "SELECT '" + "é".repeat(49993) + "' AS a";
        const utf8Over = "SELECT '" + "é".repeat(49993) + "x' AS a";
        return Response.json({
          at100000: attempt(() => sql.exec(padded(100000)).toArray()),
          at100001: attempt(() => sql.exec(padded(100001)).toArray()),
          at1000000: attempt(() => sql.exec(padded(1000000)).toArray()),
          utf8: { chars: utf8.length, bytes: new TextEncoder().encode(utf8).length, result: attempt(() => sql.exec(utf8).toArray().length) },
          utf8Over: { chars: utf8Over.length, bytes: new TextEncoder().encode(utf8Over).length, result: attempt(() => sql.exec(utf8Over).toArray().length) },
          stillWorks: this.stillWorks("statement length"),
        });
      }
      case "/parameters": {
        const inList = (n) => sql.exec(`SELECT 99 IN (${list(n, () => "?").join(", ")}) AS found`, ...list(n, (i) => i)).one().found;
        sql.exec("CREATE TABLE IF NOT EXISTS pairs(a, b)");
        return Response.json({
          in100: attempt(() => inList(100)),
          in101: attempt(() => inList(101)),
          insert100: attempt(() => sql.exec(`INSERT INTO pairs VALUES ${list(50, () => "(?, ?)").join(", ")}`, ...list(100, (i) => i)).rowsWritten),
          insert102: attempt(() => sql.exec(`INSERT INTO pairs VALUES ${list(51, () => "(?, ?)").join(", ")}`, ...list(102, (i) => i)).rowsWritten),
          numbered100: attempt(() => sql.exec("SELECT ?100 AS x", ...list(100, (i) => i)).one()),
          numbered101: attempt(() => sql.exec("SELECT ?101 AS x", ...list(101, (i) => i)).one()),
          pairs: sql.exec("SELECT count(*) AS n FROM pairs").one().n,
          stillWorks: this.stillWorks("parameters"),
        });
      }
      case "/function-arguments": {
        const maxOf = (n) => sql.exec(`SELECT max(${list(n, (i) => i).join(", ")}) AS m`).one().m;
        return Response.json({
          args32: attempt(() => maxOf(32)),
          args128: attempt(() => maxOf(128)),
          stillWorks: this.stillWorks("function arguments"),
        });
      }
      case "/like-pattern": {
        const like = (n) => sql.exec("SELECT ? LIKE ? AS m", "a".repeat(n), "a".repeat(n)).one().m;
        return Response.json({
          like50: attempt(() => like(50)),
          like51: attempt(() => like(51)),
          glob51: attempt(() => sql.exec("SELECT ? GLOB ? AS m", "a".repeat(51), "a".repeat(51)).one().m),
          literal51: attempt(() => sql.exec(`SELECT 'x' LIKE '${"a".repeat(51)}' AS m`).one().m),
          // 25 two-byte characters are 50 bytes.
          utf8At50Bytes: attempt(() => like(0) + sql.exec("SELECT ? LIKE ? AS m", "é".repeat(25), "é".repeat(25)).one().m),
          utf8At52Bytes: attempt(() => sql.exec("SELECT ? LIKE ? AS m", "é".repeat(26), "é".repeat(26)).one().m),
          stillWorks: this.stillWorks("like pattern"),
        });
      }
      case "/value-size": {
        // Only sizes under the documented 2 MB: workerd does not enforce that limit (see scenario.json).
        sql.exec("CREATE TABLE IF NOT EXISTS big(k TEXT, v)");
        const n = 1500000;  // workerd also accepted 2,200,002 bytes
        return Response.json({
          string: attempt(() => sql.exec("INSERT INTO big VALUES ('s', ?)", "x".repeat(n)).rowsWritten),
          blob: attempt(() => sql.exec("INSERT INTO big VALUES ('b', ?)", new Uint8Array(n)).rowsWritten),
          lengths: sql.exec("SELECT k, length(v) AS n, typeof(v) AS t FROM big ORDER BY k").toArray(),
          readBack: sql.exec("SELECT v FROM big WHERE k = 'b'").one().v.byteLength,
          stillWorks: this.stillWorks("value size"),
        });
      }
      case "/other": {
        const compound = (n) => sql.exec(list(n, (i) => `SELECT ${i}`).join(" UNION ALL ")).toArray().length;
        const sum = (n) => sql.exec(`SELECT ${list(n, () => "1").join(" + ")} AS s`).one().s;
        return Response.json({
          compound5: attempt(() => compound(5)),
          compound6: attempt(() => compound(6)),
          values50: attempt(() => sql.exec("VALUES " + list(50, (i) => `(${i})`).join(", ")).toArray().length),
          depth100: attempt(() => sum(100)),
          depth101: attempt(() => sum(101)),
          triggers: attempt(() => {
            sql.exec("CREATE TABLE chain(n)");
            sql.exec("CREATE TRIGGER next_link AFTER INSERT ON chain WHEN new.n < 20 BEGIN INSERT INTO chain VALUES (new.n + 1); END");
            sql.exec("PRAGMA recursive_triggers = ON");
            return sql.exec("INSERT INTO chain VALUES (0)").toArray();
          }),
          stillWorks: this.stillWorks("other"),
        });
      }
      case "/log":
        return Response.json(sql.exec("SELECT what FROM log ORDER BY n").raw().toArray().map((r) => r[0]));
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.WIDE.getByName("wide").fetch(request);
  },
};
