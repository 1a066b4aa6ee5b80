// Single-key get and put on a KV-backed Durable Object: missing keys, overwrites, odd keys,
// values of several JSON types, per-object isolation.
import { DurableObject } from "cloudflare:workers";

export class Store extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key");
    if (request.method === "PUT") {
      const value = await request.json();
      const result = await this.ctx.storage.put(key, value);
      return Response.json({ putReturned: result === undefined ? "(undefined)" : result });
    }
    const value = await this.ctx.storage.get(key);
    if (value === undefined) return Response.json({ found: false });
    return Response.json({ found: true, value });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const object = url.searchParams.get("object") ?? "main";
    return env.STORE.getByName(object).fetch(request);
  },
};
