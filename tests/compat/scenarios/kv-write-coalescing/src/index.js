// Writes issued without await between them are coalesced into one atomic batch; they are visible
// to reads at once, and the response is held until they are durable, so the next request sees
// them.
import { DurableObject } from "cloudflare:workers";

export class Store extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const s = this.ctx.storage;
    switch (url.pathname) {
      case "/pair":
        // No await: one batch. The response leaves only once both are stored.
        s.put("left", "L");
        s.put("right", "R");
        s.delete("gone");
        return new Response("queued");
      case "/seed-gone":
        await s.put("gone", "here");
        return new Response("seeded");
      case "/read-own-writes": {
        s.put("x", 1);
        s.put("x", 2);
        const immediate = await s.get("x");
        s.delete("x");
        const afterDelete = await s.get("x");
        s.put({ y: 1, z: 2 });
        const listed = [...(await s.list({ prefix: "" })).keys()].filter((k) => k === "y" || k === "z");
        return Response.json({ immediate, afterDelete: afterDelete ?? null, listed });
      }
      case "/many":
        for (let i = 0; i < 200; i++) s.put(`item:${String(i).padStart(3, "0")}`, i);
        return new Response("200 queued");
      case "/throw-after-write":
        // The write was issued before the exception: it is not rolled back.
        s.put("before-throw", true);
        throw new Error("thrown after an un-awaited put");
      case "/state": {
        const items = await s.list({ prefix: "item:" });
        let sum = 0;
        for (const v of items.values()) sum += v;
        const [first] = items.keys();
        return Response.json({
          left: (await s.get("left")) ?? null,
          right: (await s.get("right")) ?? null,
          gone: (await s.get("gone")) ?? null,
          items: items.size,
          first: first ?? null,
          sum,
          beforeThrow: (await s.get("before-throw")) ?? null,
        });
      }
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.STORE.getByName("w").fetch(request);
  },
};
