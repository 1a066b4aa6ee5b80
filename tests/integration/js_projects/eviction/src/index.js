// Each construction of a Sticky gets the next instance number (module state, shared by the
// isolate); an instance keeps an in-memory hit count; the stored counter survives eviction.
import { DurableObject } from "cloudflare:workers";

let constructed = 0;

export class Sticky extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.instance = ++constructed;
    this.hits = 0;
  }

  async fetch() {
    this.hits++;
    const stored = ((await this.ctx.storage.get("stored")) ?? 0) + 1;
    await this.ctx.storage.put("stored", stored);
    return new Response(`instance ${this.instance} hits ${this.hits} stored ${stored}`);
  }
}

export default {
  async fetch(request, env) {
    return env.STICKY.getByName("sticky").fetch(request);
  },
};
