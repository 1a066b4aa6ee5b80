// delete(key) -> whether it existed; delete([keys]) -> how many existed; deleteAll().
import { DurableObject } from "cloudflare:workers";

export class Store extends DurableObject {
  async seed() {
    await this.ctx.storage.put({ a: 1, b: 2, c: 3, d: 4, e: 5 });
    return [...(await this.ctx.storage.list()).keys()];
  }
  async del(keyOrKeys) {
    return await this.ctx.storage.delete(keyOrKeys);
  }
  async deleteAll() {
    const r = await this.ctx.storage.deleteAll();
    return r === undefined ? "(undefined)" : r;
  }
  async keys() {
    return [...(await this.ctx.storage.list()).keys()];
  }
  async deleteThenGet() {
    // Deleting and reading back in the same turn, without awaiting the delete.
    this.ctx.storage.put("temp", "x");
    this.ctx.storage.delete("temp");
    return (await this.ctx.storage.get("temp")) === undefined;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const store = env.STORE.getByName("s");
    switch (url.pathname) {
      case "/seed":
        return Response.json(await store.seed());
      case "/delete":
        return Response.json(await store.del(await request.json()));
      case "/delete-all":
        return Response.json(await store.deleteAll());
      case "/keys":
        return Response.json(await store.keys());
      case "/delete-then-get":
        return Response.json(await store.deleteThenGet());
    }
    return new Response("not found", { status: 404 });
  },
};
