// An object that can allocate without bound, beside well-behaved objects that keep an in-memory
// hit count and a stored counter.
import { DurableObject } from "cloudflare:workers";

export class Hoarder extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.hits = 0;
  }

  async fetch(request) {
    const op = new URL(request.url).pathname.split("/")[3];
    switch (op) {
      case "bomb": {
        const hoard = [];
        while (true) hoard.push(new Array(1 << 16).fill(hoard.length));
      }
      case "count": {
        this.hits++;
        const stored = ((await this.ctx.storage.get("stored")) ?? 0) + 1;
        await this.ctx.storage.put("stored", stored);
        return new Response(`hits ${this.hits} stored ${stored}`);
      }
    }
    return new Response(`unknown op ${op}`, { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    const parts = new URL(request.url).pathname.split("/");
    if (parts[1] === "ping") return new Response("pong");
    // /o/<name>/<op>
    try {
      return await env.HOARDER.getByName(parts[2]).fetch(request);
    } catch (e) {
      return new Response(`caught ${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
