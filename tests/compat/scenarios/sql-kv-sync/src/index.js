// The synchronous KV API of SQLite-backed objects (ctx.storage.kv: get, put, delete, list),
// shared with the asynchronous ctx.storage API, and deleteAll() dropping the SQL tables too.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

// A JSON-safe description of a stored value.
function describe(v) {
  const tag = Object.prototype.toString.call(v);
  if (v === undefined) return [tag];
  if (v instanceof Map) return [tag, [...v]];
  if (v instanceof Set) return [tag, [...v]];
  if (v instanceof Date) return [tag, v.toISOString()];
  if (typeof v === "bigint") return [tag, String(v)];
  if (ArrayBuffer.isView(v)) return [tag, [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)]];
  if (v instanceof ArrayBuffer) return [tag, [...new Uint8Array(v)]];
  return [tag, v];
}

export class Store extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const st = this.ctx.storage;
    const kv = st.kv;
    const keys = (options) => [...kv.list(options)].map(([k]) => k);
    switch (url.pathname) {
      case "/values": {
        const values = {
          number: 1, float: 1.5, string: "three", object: { x: [1, 2], y: { z: null } }, nul: null, yes: true,
          bytes: new Uint8Array([1, 2]), buffer: new Uint8Array([3]).buffer, map: new Map([[1, "one"]]), set: new Set(["s"]),
          date: new Date(0), bigint: 10n, undef: undefined, emptyString: "",
        };
        const putResults = {};
        for (const [k, v] of Object.entries(values)) putResults[k] = attempt(() => kv.put(k, v) === undefined);
        const read = {};
        for (const k of Object.keys(values)) read[k] = describe(kv.get(k));
        return Response.json({
          putResults, read,
          missing: describe(kv.get("no-such-key")),
          emptyKey: attempt(() => { kv.put("", "empty key"); return kv.get(""); }),
          putFunction: attempt(() => kv.put("f", () => 1)),
          putNoValue: attempt(() => kv.put("f")),
          undefListed: kv.list({ prefix: "undef" }).next().value.length,
        });
      }
      case "/delete":
        return Response.json({
          existing: kv.delete("number"),
          missing: kv.delete("number"),
          never: kv.delete("no-such-key"),
          afterwards: describe(kv.get("number")),
        });
      case "/list": {
        await st.deleteAll();
        for (const k of ["a", "b", "c", "d", "e", "prefix:1", "prefix:2", "prefiy"]) kv.put(k, k.toUpperCase());
        const it = kv.list();
        const first = it.next();
        return Response.json({
          tag: Object.prototype.toString.call(it), isArray: Array.isArray(it), iterable: typeof it[Symbol.iterator],
          first, rest: [...it], exhausted: it.next().done,
          all: keys(),
          prefix: [...kv.list({ prefix: "prefix:" })],
          startEnd: keys({ start: "b", end: "d" }),
          startAfter: keys({ startAfter: "b", end: "e" }),
          reverse: keys({ reverse: true }),
          reverseLimit: keys({ reverse: true, limit: 2 }),
          limit: keys({ limit: 3 }),
          prefixStart: keys({ prefix: "prefix:", start: "prefix:2" }),
          limitZero: attempt(() => keys({ limit: 0 })),
          limitNegative: attempt(() => keys({ limit: -1 })),
          startAndStartAfter: attempt(() => keys({ start: "a", startAfter: "b" })),
        });
      }
      case "/async-interplay": {
        kv.put("sync-written", { n: 1 });
        await st.put("async-written", [1, 2]);
        const asyncSeesSync = await st.get("sync-written");
        const syncSeesAsync = kv.get("async-written");
        await st.delete("a");
        kv.delete("async-written");
        return Response.json({
          asyncSeesSync, syncSeesAsync,
          syncAfterAsyncDelete: describe(kv.get("a")),
          asyncAfterSyncDelete: describe(await st.get("async-written")),
          asyncList: [...(await st.list())].map(([k]) => k),
          syncList: keys(),
        });
      }
      case "/delete-all": {
        const sql = st.sql;
        sql.exec("CREATE TABLE IF NOT EXISTS things(a)");
        sql.exec("INSERT INTO things VALUES (1), (2)");
        const before = { tables: sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").raw().toArray().map((r) => r[0]), keys: keys().length };
        const sizeBefore = sql.databaseSize;
        const result = await st.deleteAll();
        return Response.json({
          before, result: describe(result),
          tables: sql.exec("SELECT name FROM sqlite_master").toArray(),
          keys: keys(),
          select: attempt(() => sql.exec("SELECT * FROM things").toArray()),
          smaller: sql.databaseSize < sizeBefore,
        });
      }
      case "/after-delete-all": {
        const sql = st.sql;
        const tables = sql.exec("SELECT name FROM sqlite_master").toArray();
        const listed = keys();
        sql.exec("CREATE TABLE things(a)");
        sql.exec("INSERT INTO things VALUES (3)");
        kv.put("fresh", 1);
        return Response.json({ tables, listed, things: sql.exec("SELECT a FROM things").toArray(), keys: keys() });
      }
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.STORE.getByName("store").fetch(request);
  },
};
