// Calls made through one stub without awaiting each are delivered in the order they were made.
import { DurableObject } from "cloudflare:workers";

export class Log extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.arrivals = [];
  }
  async append(i) {
    this.arrivals.push(i);
    const stored = (await this.ctx.storage.get("items")) ?? [];
    stored.push(i);
    await this.ctx.storage.put("items", stored);
    return stored.length;
  }
  async read() {
    return { arrivals: this.arrivals, stored: (await this.ctx.storage.get("items")) ?? [] };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.LOG.getByName(url.searchParams.get("name") ?? "log");
    if (url.pathname === "/fire") {
      const n = Number(url.searchParams.get("n"));
      const base = Number(url.searchParams.get("base") ?? 0);
      const pending = [];
      for (let i = 0; i < n; i++) pending.push(stub.append(base + i));
      const lengths = await Promise.all(pending);
      return Response.json({ lengths });
    }
    if (url.pathname === "/read") return Response.json(await stub.read());
    return new Response("not found", { status: 404 });
  },
};
