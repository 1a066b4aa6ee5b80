// A token bucket per client key, kept in the client's Durable Object. The object is the single
// writer of its bucket, so concurrent requests for one client never over-spend; the state is in
// storage, so a restart keeps every client's remaining tokens.
import { DurableObject } from "cloudflare:workers";

export class TokenBucket extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.capacity = Number(env.CAPACITY);
    this.refillPerMs = Number(env.REFILL_PER_SECOND) / 1000;
  }

  // Takes one token if there is one. Returns { allowed, remaining, retryAfterSeconds }.
  async take(now = Date.now()) {
    const bucket = (await this.ctx.storage.get("bucket")) ?? { tokens: this.capacity, at: now };
    const tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.refillPerMs);
    const allowed = tokens >= 1;
    const left = allowed ? tokens - 1 : tokens;
    await this.ctx.storage.put("bucket", { tokens: left, at: now });
    return {
      allowed,
      remaining: Math.floor(left),
      retryAfterSeconds: allowed ? 0 : Math.ceil((1 - left) / this.refillPerMs / 1000),
    };
  }
}

export default {
  async fetch(request, env) {
    const [, route, client] = new URL(request.url).pathname.split("/");
    if (route !== "limit" || !client) {
      return new Response("usage: /limit/<client>\n", { status: 404 });
    }
    const { allowed, remaining, retryAfterSeconds } = await env.LIMITER.getByName(client).take();
    if (!allowed) {
      return new Response("rate limited\n", {
        status: 429,
        headers: { "Retry-After": String(retryAfterSeconds), "X-RateLimit-Remaining": "0" },
      });
    }
    return new Response("ok\n", { headers: { "X-RateLimit-Remaining": String(remaining) } });
  },
};
