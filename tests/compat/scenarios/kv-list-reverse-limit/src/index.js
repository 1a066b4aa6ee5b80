// storage.list(options) over a fixed set of keys. POST /seed writes them; POST /list takes the
// options as JSON and answers with the entries of the returned Map, or with the error.
import { DurableObject } from "cloudflare:workers";

// Sorted by their UTF-8 bytes: "" < "A" < "a" < ... < "é" (C3 A9) < "～" (EF BD 9E) < "😀" (F0 ...).
// In UTF-16 order "😀" (D83D) would come before "～" (FF5E).
const KEYS = ["a/2", "b", "é", "a", "a/10", "ab", "～", "A", "a/1", "😀", "b/x", "c", "d", ""];

export class Index extends DurableObject {
  async seed() {
    await this.ctx.storage.put(Object.fromEntries(KEYS.map((k) => [k, `v:${k}`])));
    return KEYS.length;
  }
  async list(options) {
    try {
      const map = options === null ? await this.ctx.storage.list() : await this.ctx.storage.list(options);
      if (!(map instanceof Map)) return { error: "not a Map" };
      return [...map.keys()].map((k) => (map.get(k) === `v:${k}` ? k : `${k} has a wrong value`));
    } catch (e) {
      return { error: `${e.name}: ${e.message}` };
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const index = env.INDEX.getByName(url.searchParams.get("object") ?? "main");
    if (url.pathname === "/seed") return Response.json(await index.seed());
    if (url.pathname === "/list") return Response.json(await index.list(await request.json()));
    return new Response("not found", { status: 404 });
  },
};
