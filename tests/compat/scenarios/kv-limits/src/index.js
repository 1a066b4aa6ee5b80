// The documented limits of KV-backed Durable Object storage: keys up to 2,048 bytes (UTF-8),
// values up to 128 KiB, 128 keys per get/put/delete batch. One line per case: "ok" or the error.
import { DurableObject } from "cloudflare:workers";

const range = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export class Store extends DurableObject {
  async check(name) {
    const s = this.ctx.storage;
    const cases = {
      keys: {
        "put key of 2048 bytes": () => s.put("k".repeat(2048), 1),
        "put key of 2049 bytes": () => s.put("k".repeat(2049), 1),
        "put key of 2050 UTF-8 bytes": () => s.put("é".repeat(1025), 1),
        "put entries with a 2049-byte key": () => s.put({ small: 1, ["k".repeat(2049)]: 2 }),
        "get key of 2049 bytes": () => s.get("k".repeat(2049)),
        "delete key of 2049 bytes": () => s.delete("k".repeat(2049)),
      },
      values: {
        "put value of 100 KiB": () => s.put("v", "x".repeat(100 * 1024)),
        "put value of 140000 bytes": () => s.put("v", "x".repeat(140000)),
        "put entries with a 140000-byte value": () => s.put({ w: "x".repeat(140000) }),
        "put bytes of 200 KiB": () => s.put("v", new Uint8Array(200 * 1024)),
      },
      batches: {
        "put 128 entries": () => s.put(Object.fromEntries(range(128, "p").map((k) => [k, 1]))),
        "put 129 entries": () => s.put(Object.fromEntries(range(129, "q").map((k) => [k, 1]))),
        "get 128 keys": () => s.get(range(128, "p")),
        "get 129 keys": () => s.get(range(129, "p")),
        "delete 128 keys": () => s.delete(range(128, "p")),
        "delete 129 keys": () => s.delete(range(129, "q")),
      },
    }[name];
    const lines = [];
    for (const [label, fn] of Object.entries(cases)) {
      try {
        await fn();
        lines.push(`${label}: ok`);
      } catch (e) {
        lines.push(`${label}: ${e.name}: ${e.message}`);
      }
    }
    // What the failed writes left behind: nothing.
    const stored = await s.list();
    lines.push(`stored keys: ${[...stored.keys()].map((k) => (k.length > 20 ? `${k[0]}*${k.length}` : k)).sort().join(",")}`);
    // The object still works after the errors.
    await s.put("after", "fine");
    lines.push(`afterwards: ${await s.get("after")}`);
    await s.deleteAll();
    return lines.join("\n");
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return new Response(await env.STORE.getByName("limits").check(url.pathname.slice(1)));
  },
};
