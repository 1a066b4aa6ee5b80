// A ledger per name on a SQLite-backed object: a counter row, a pair (a, b) always written
// together (by one exec, or by SQL and the KV API with no await between them), and a pair (c, d)
// written by a transaction that spans an await. The crash test checks that every acknowledged
// value survives SIGKILL and that no pair is ever half written.
import { DurableObject } from "cloudflare:workers";

export class Ledger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS cells(k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  }

  set(k, v) {
    this.ctx.storage.sql.exec(
      "INSERT INTO cells(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", k, v);
  }

  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.split("/")[3];
    const v = Number(url.searchParams.get("v"));
    const { sql, kv } = this.ctx.storage;
    switch (op) {
      case "count": {
        const n = sql.exec(
          "INSERT INTO cells(k, v) VALUES ('n', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v").one().v;
        return new Response(String(n));
      }
      case "pair":
        // One exec of two statements: a single atomic write.
        sql.exec(`UPDATE cells SET v = ${v} WHERE k = 'a'; INSERT OR IGNORE INTO cells VALUES ('a', ${v});` +
                 ` INSERT INTO cells VALUES ('b', ${v}) ON CONFLICT(k) DO UPDATE SET v = excluded.v`);
        kv.put("b", v);
        return new Response(`ok ${v}`);
      case "pair2":
        // SQL and KV writes with no await between them: coalesced into one atomic write; the
        // response is held until it is durable.
        this.set("a", v);
        kv.put("b", v);
        this.set("b", v);
        return new Response(`ok ${v}`);
      case "txn":
        await this.ctx.storage.transaction(async () => {
          this.set("c", v);
          await this.ctx.storage.get("unrelated");
          await scheduler.wait(1);
          this.set("d", v);
        });
        return new Response(`ok ${v}`);
      case "read": {
        const cells = Object.fromEntries(sql.exec("SELECT k, v FROM cells").raw());
        const b = kv.get("b") ?? 0;
        if ((cells.b ?? 0) !== b) return new Response(`kv b ${b} != sql b ${cells.b}`, { status: 500 });
        return new Response(["n", "a", "b", "c", "d"].map((k) => cells[k] ?? 0).join(" "));
      }
    }
    return new Response(`unknown op ${op}`, { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    // /o/<name>/<op>
    const name = new URL(request.url).pathname.split("/")[2];
    return env.LEDGER.getByName(name).fetch(request);
  },
};
