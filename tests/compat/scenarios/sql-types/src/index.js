// What sql.exec() accepts as bindings and what comes back: numbers (always bound as REAL),
// strings, null/undefined, ArrayBuffer and typed arrays as BLOBs (read back as ArrayBuffer),
// booleans and objects (converted to text), BigInt and Symbol (TypeError), integers beyond 2^53.
import { DurableObject } from "cloudflare:workers";

// A JSON-safe description of a value read from SQL.
function describe(v) {
  if (v === null) return { type: "null" };
  if (v === undefined) return { type: "undefined" };
  if (typeof v === "number") return { type: "number", value: Number.isFinite(v) ? v : String(v), integer: Number.isInteger(v) };
  if (typeof v === "string") return { type: "string", value: v };
  if (v instanceof ArrayBuffer) return { type: "ArrayBuffer", bytes: [...new Uint8Array(v)] };
  return { type: Object.prototype.toString.call(v) };
}

export class Values extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS v(k TEXT PRIMARY KEY, x)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS typed(k TEXT PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB)");
  }

  // Binds `value`, then reads it back (value, SQLite's typeof(), length()).
  roundTrip(key, value) {
    const sql = this.ctx.storage.sql;
    try {
      sql.exec("INSERT INTO v(k, x) VALUES (?, ?)", key, value);
    } catch (e) {
      return { error: { name: e.name, message: e.message } };
    }
    const row = sql.exec("SELECT x, typeof(x) AS sqlType, length(x) AS len FROM v WHERE k = ?", key).one();
    return { read: describe(row.x), sqlType: row.sqlType, len: row.len };
  }

  fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    switch (url.pathname) {
      case "/bind": {
        const cases = {
          int: 42, negative: -7, float: 1.25, wholeFloat: 3.0, negativeZero: -0, nan: NaN, infinity: Infinity,
          twoPow53: 2 ** 53, huge: 1e20,
          text: "héllo 😀", empty: "", nul: null, undef: undefined,
          arrayBuffer: new Uint8Array([1, 2, 255]).buffer, uint8: new Uint8Array([4, 5]),
          subarray: new Uint8Array([9, 8, 7, 6]).subarray(1, 3), int16: new Int16Array([1, 2]),
          dataView: new DataView(new Uint8Array([7, 7]).buffer), emptyBuffer: new ArrayBuffer(0),
          yes: true, no: false, object: { a: 1 }, array: [1, 2], boxedString: new String("s"),
          bigint: 5n, bigintLarge: 9007199254740993n, symbol: Symbol("s"),
        };
        const out = {};
        for (const [k, v] of Object.entries(cases)) out[k] = this.roundTrip(k, v);
        return Response.json(out);
      }
      case "/affinity": {
        // Column affinity decides what a bound JS number is stored as.
        sql.exec("INSERT INTO typed VALUES (?, ?, ?, ?, ?)", "a", 42, 42, 42, new Uint8Array([1]));
        sql.exec("INSERT INTO typed VALUES (?, ?, ?, ?, ?)", "b", 1.5, "2.5", "text", "not a blob");
        const rows = sql.exec("SELECT k, i, typeof(i) AS ti, r, typeof(r) AS tr, t, typeof(t) AS tt, b, typeof(b) AS tb FROM typed ORDER BY k").toArray();
        return Response.json(rows.map((r) => ({ ...r, i: describe(r.i), r: describe(r.r), t: describe(r.t), b: describe(r.b) })));
      }
      case "/results": {
        // Values produced by SQL itself.
        const row = sql.exec(`SELECT 7 AS int, -3 AS neg, 2.5 AS real, 1.0 AS wholeReal, 5 / 2 AS intDiv, 5.0 / 2 AS realDiv,
          1 / 0 AS divZero, 'txt' AS text, x'00ff' AS blob, zeroblob(2) AS zero, NULL AS nul, CAST('ab' AS BLOB) AS cast,
          1 = 1 AS truth, typeof(1 = 1) AS truthType, json_array(1, 2) AS json`).one();
        return Response.json(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, describe(v)])));
      }
      case "/big": {
        // Integers beyond 2^53 are returned as the nearest double, no error; a BigInt cannot be bound.
        sql.exec("INSERT INTO typed(k, i) VALUES ('max', 9223372036854775807), ('over', 9007199254740993), ('safe', 9007199254740991)");
        const rows = sql.exec("SELECT k, i, typeof(i) AS t, CAST(i AS TEXT) AS exact FROM typed WHERE k IN ('max', 'over', 'safe') ORDER BY k").toArray();
        const lit = sql.exec("SELECT 9007199254740993 AS a, -9007199254740993 AS b, 9223372036854775807 AS c").one();
        const viaRaw = sql.exec("SELECT 9007199254740993 AS a").raw().toArray()[0][0];
        return Response.json({
          rows: rows.map((r) => ({ k: r.k, type: typeof r.i, text: String(r.i), sqlType: r.t, exact: r.exact })),
          literal: { a: String(lit.a), aIs2pow53: lit.a === 2 ** 53, b: String(lit.b), c: String(lit.c), cIs2pow63: lit.c === 2 ** 63 },
          viaRaw: String(viaRaw),
          bigintAsText: sql.exec("SELECT CAST(? AS INTEGER) AS n, typeof(CAST(? AS INTEGER)) AS t", "9007199254740993", "9007199254740993").one(),
        });
      }
      case "/stored":
        // What the failed bindings left behind: nothing.
        return Response.json(sql.exec("SELECT k FROM v ORDER BY k").raw().toArray().map((r) => r[0]));
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.VALUES.getByName("values").fetch(request);
  },
};
