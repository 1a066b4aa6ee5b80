// Objects named bad-* throw from their constructor; /<mode>/<name>/throw throws from fetch.
import { DurableObject } from "cloudflare:workers";

export class Fragile extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    if (ctx.id.name.startsWith("bad-")) {
      throw new Error(`constructor failed for ${ctx.id.name}`);
    }
    this.hits = 0;
  }

  async fetch(request) {
    this.hits++;
    if (new URL(request.url).pathname.endsWith("/throw")) {
      throw new TypeError(`fetch failed on purpose in ${this.ctx.id.name}`);
    }
    return new Response(`${this.ctx.id.name} ${this.hits}`);
  }
}

export default {
  async fetch(request, env) {
    const [, mode, name] = new URL(request.url).pathname.split("/");
    if (mode === "ping") return new Response("pong");
    const stub = env.FRAGILE.getByName(name);
    // /raw/<name>/...: the object's exception escapes the Worker.
    if (mode === "raw") return stub.fetch(request);
    // /caught/<name>/...: the Worker catches it.
    try {
      return await stub.fetch(request);
    } catch (e) {
      return new Response(`caught ${e.name}: ${e.message}`, { status: 500 });
    }
  },
};
