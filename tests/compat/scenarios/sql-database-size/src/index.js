// sql.databaseSize: a number of bytes, a whole number of pages, growing with inserted data and
// with KV data, and not growing for reads.
import { DurableObject } from "cloudflare:workers";

export class Blobs extends DurableObject {
  fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    const pageSize = sql.exec("PRAGMA page_size").one().page_size;
    const check = (size) => ({ type: typeof size, integer: Number.isInteger(size), positive: size > 0, wholePages: size % pageSize === 0 });
    switch (url.pathname) {
      case "/grow": {
        const empty = sql.databaseSize;
        sql.exec("CREATE TABLE b(x)");
        const withTable = sql.databaseSize;
        sql.exec("INSERT INTO b VALUES (?)", "x".repeat(200000));
        const withRow = sql.databaseSize;
        sql.exec("SELECT * FROM b").toArray();
        const afterRead = sql.databaseSize;
        this.ctx.storage.kv.put("k", "v".repeat(50000));
        const withKv = sql.databaseSize;
        return Response.json({
          pageSize, checks: [empty, withTable, withRow, afterRead, withKv].map(check),
          tableGrows: withTable > empty, rowGrowsByAtLeast190k: withRow - withTable >= 190000,
          readSame: afterRead === withRow, kvGrows: withKv > afterRead,
        });
      }
      case "/later": {
        // The same size is reported by a later request; deleting rows does not grow it.
        const before = sql.databaseSize;
        sql.exec("DELETE FROM b");
        const afterDelete = sql.databaseSize;
        return Response.json({ check: check(before), atLeast250k: before >= 250000, deleteNotLarger: afterDelete <= before, afterDelete: check(afterDelete) });
      }
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.BLOBS.getByName("blobs").fetch(request);
  },
};
