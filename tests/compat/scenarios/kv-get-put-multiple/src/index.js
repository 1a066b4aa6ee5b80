// put(entries) and get(keys): one call for many keys; get returns a Map (serialized here as
// its entries, in the Map's own order) without the missing keys.
import { DurableObject } from "cloudflare:workers";

export class Store extends DurableObject {
  async putMany(entries) {
    const r = await this.ctx.storage.put(entries);
    return r === undefined ? "(undefined)" : r;
  }
  async getMany(keys) {
    const map = await this.ctx.storage.get(keys);
    return { isMap: map instanceof Map, size: map.size, entries: [...map] };
  }
  async dropsUndefined() {
    await this.ctx.storage.put({ kept: 1, dropped: undefined });
    const map = await this.ctx.storage.get(["kept", "dropped"]);
    return [...map.keys()];
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const store = env.STORE.getByName("s");
    if (url.pathname === "/put") return Response.json(await store.putMany(await request.json()));
    if (url.pathname === "/get") return Response.json(await store.getMany(await request.json()));
    if (url.pathname === "/drops-undefined") return Response.json(await store.dropsUndefined());
    return new Response("not found", { status: 404 });
  },
};
