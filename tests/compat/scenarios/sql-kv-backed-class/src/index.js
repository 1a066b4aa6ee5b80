// A KV-backed class (new_classes): ctx.storage.sql exists but using it throws, as does
// ctx.storage.kv; transactionSync() and the async API keep working.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

export class Legacy extends DurableObject {
  async fetch() {
    const st = this.ctx.storage;
    const result = {
      sqlTag: Object.prototype.toString.call(st.sql),
      kvTag: Object.prototype.toString.call(st.kv),
      exec: attempt(() => st.sql.exec("SELECT 1").toArray()),
      databaseSize: attempt(() => st.sql.databaseSize),
      kvGet: attempt(() => st.kv.get("a")),
      kvPut: attempt(() => st.kv.put("a", 1)),
      kvList: attempt(() => [...st.kv.list()]),
      transactionSync: attempt(() => st.transactionSync(() => "returned")),
    };
    await st.put("a", 1);
    result.transaction = await st.transaction(async (txn) => (await txn.get("a")) + 1);
    result.asyncList = [...(await st.list())];
    return Response.json(result);
  }
}

export default {
  async fetch(request, env) {
    return env.LEGACY.getByName("legacy").fetch(request);
  },
};
