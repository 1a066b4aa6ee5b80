// A ledger per name: a counter, a pair (a, b) always written together, and a pair (c, d) written
// by a transaction. The crash test checks that every acknowledged value survives SIGKILL and that
// no pair is ever half written.
import { DurableObject } from "cloudflare:workers";

export class Ledger extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.split("/")[3];
    const v = Number(url.searchParams.get("v"));
    const storage = this.ctx.storage;
    switch (op) {
      case "count": {
        const n = (await storage.get("n")) ?? 0;
        await storage.put("n", n + 1);
        return new Response(String(n + 1));
      }
      case "pair":
        // One put of two entries: a single atomic write.
        await storage.put({ a: v, b: v });
        return new Response(`ok ${v}`);
      case "pair2":
        // Two puts with no await between them: coalesced into one atomic write; the response is
        // held until it is durable.
        storage.put("a", v);
        storage.put("b", v);
        return new Response(`ok ${v}`);
      case "txn":
        await storage.transaction(async (txn) => {
          await txn.put("c", v);
          await txn.get("a");
          await txn.put("d", v);
        });
        return new Response(`ok ${v}`);
      case "read": {
        const keys = ["n", "a", "b", "c", "d"];
        const values = await storage.get(keys);
        return new Response(keys.map((k) => values.get(k) ?? 0).join(" "));
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
