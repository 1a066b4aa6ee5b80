// ctx.storage.sql.exec() on a SQLite-backed object: CREATE TABLE, INSERT with `?` bindings,
// SELECT, and the cursor it returns (for..of, next(), toArray(), one(), raw(), columnNames,
// rowsRead, rowsWritten). The table survives to the next request.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

// {done, value} with `value` spelled out, since JSON drops undefined.
function step(result) {
  return { keys: Object.keys(result), done: result.done, value: result.value === undefined ? "<undefined>" : result.value };
}

export class Notes extends DurableObject {
  fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    switch (url.pathname) {
      case "/setup": {
        const create = sql.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT NOT NULL, stars REAL)");
        const insert = sql.exec("INSERT INTO notes(title, stars) VALUES (?, ?), (?, ?), (?, ?)", "alpha", 1.5, "beta", 2, "gamma", 3);
        return Response.json({
          create: { columnNames: create.columnNames, rows: create.toArray() },
          insert: { columnNames: insert.columnNames, rows: insert.toArray(), rowsRead: insert.rowsRead, rowsWritten: insert.rowsWritten },
        });
      }
      case "/for-of": {
        const cursor = sql.exec("SELECT id, title, stars FROM notes ORDER BY id");
        const rows = [];
        for (const row of cursor) rows.push(row);
        const again = [];
        for (const row of cursor) again.push(row);
        return Response.json({
          columnNames: cursor.columnNames, rows, again, rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten,
          iterable: typeof cursor[Symbol.iterator], tag: Object.prototype.toString.call(cursor),
        });
      }
      case "/next": {
        const cursor = sql.exec("SELECT title FROM notes WHERE id <= ? ORDER BY id", 2);
        const steps = [cursor.next(), cursor.next(), cursor.next(), cursor.next()].map(step);
        return Response.json({ steps, rowsRead: cursor.rowsRead });
      }
      case "/to-array": {
        const cursor = sql.exec("SELECT * FROM notes ORDER BY id DESC");
        const first = cursor.toArray();
        const second = cursor.toArray();
        const partial = sql.exec("SELECT id FROM notes ORDER BY id");
        const head = step(partial.next());
        const rest = partial.toArray();
        return Response.json({ columnNames: cursor.columnNames, first, second, rowsRead: cursor.rowsRead, head, rest, isArray: Array.isArray(first) });
      }
      case "/raw": {
        const cursor = sql.exec("SELECT id, title FROM notes ORDER BY id");
        const raw = cursor.raw();
        const firstRaw = step(raw.next());
        const restRaw = raw.toArray();
        // raw() after next() continues where the cursor is.
        const mixed = sql.exec("SELECT id FROM notes ORDER BY id");
        const mixedHead = step(mixed.next());
        const mixedRaw = [...mixed.raw()];
        const dup = sql.exec("SELECT 1 AS a, 2 AS a, 3 AS b");
        const dupNames = dup.columnNames;
        const dupObjects = sql.exec("SELECT 1 AS a, 2 AS a, 3 AS b").toArray();
        const dupRaw = dup.raw().toArray();
        return Response.json({
          columnNames: cursor.columnNames, firstRaw, restRaw, mixedHead, mixedRaw,
          dupNames, dupObjects, dupRaw,
          exprNames: sql.exec("SELECT 1 + 1, 'x' || 'y', count(*) FROM notes").columnNames,
        });
      }
      case "/one": {
        return Response.json({
          one: attempt(() => sql.exec("SELECT title, stars FROM notes WHERE id = ?", 2).one()),
          none: attempt(() => sql.exec("SELECT title FROM notes WHERE id = ?", 99).one()),
          two: attempt(() => sql.exec("SELECT title FROM notes WHERE id <= 2").one()),
          insert: attempt(() => sql.exec("INSERT INTO notes(title) VALUES ('delta')").one()),
          returning: attempt(() => sql.exec("INSERT INTO notes(title, stars) VALUES (?, ?) RETURNING id, title", "epsilon", 5).one()),
          count: attempt(() => sql.exec("SELECT count(*) AS n FROM notes").one()),
        });
      }
      case "/counts": {
        const counted = (query, ...bindings) => {
          const cursor = sql.exec(query, ...bindings);
          const rows = cursor.toArray().length;
          return { rows, rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
        };
        sql.exec("CREATE TABLE tally(id INTEGER PRIMARY KEY, v INTEGER, tag TEXT)");
        return Response.json({
          insert3: counted("INSERT INTO tally(v, tag) VALUES (1, 'a'), (2, 'b'), (3, 'c')"),
          selectAll: counted("SELECT * FROM tally"),
          selectByKey: counted("SELECT * FROM tally WHERE id = 2"),
          selectScan: counted("SELECT * FROM tally WHERE v = 2"),
          selectConst: counted("SELECT 1"),
          update2: counted("UPDATE tally SET v = v + 10 WHERE v <= 2"),
          updateByKey: counted("UPDATE tally SET v = 0 WHERE id = 3"),
          updateNone: counted("UPDATE tally SET v = 0 WHERE tag = 'zzz'"),
          deleteByKey: counted("DELETE FROM tally WHERE id = 1"),
          returning: counted("INSERT INTO tally(v, tag) VALUES (?, ?) RETURNING id", 4, "d"),
          deleteAll: counted("DELETE FROM tally"),
        });
      }
      case "/list":
        return Response.json(sql.exec("SELECT id, title, stars FROM notes ORDER BY id").toArray());
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.NOTES.getByName("notebook").fetch(request);
  },
};
