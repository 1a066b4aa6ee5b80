// The benchmark Worker (bench/compare-workerd): plain Cloudflare Workers code, served unchanged by
// duro and by workerd. Routes (GET):
//   /stateless      "ok" from the Worker, no Durable Object
//   /hot            counter on COUNTER idFromName("hot"): storage get + put, returns the new value
//   /spread/<name>  the same counter on COUNTER idFromName(<name>) (any non-empty name)
//   /seed           the counter on COUNTER idFromName("read") (run once before the read row)
//   /read           COUNTER idFromName("read"): storage get only, returns the stored value
//   /limit/<name>   token bucket on LIMITER idFromName(<name>): 200 (tokens left) or 429
// anything else    404
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async fetch(request) {
    if (new URL(request.url).pathname === "/read") {
      const n = await this.ctx.storage.get("n");
      return new Response(String(n ?? 0));
    }
    let n = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", n + 1);
    return new Response(String(n + 1));
  }
}

// Token bucket: CAPACITY tokens, refilled at REFILL_PER_SECOND; a request takes one token or is
// refused with 429. The state is written back on every request, allowed or refused, so both
// outcomes cost the same (one get + one put). The bench's limiter row sends 90% of its requests
// round-robin over 1,000 keys (far below the refill rate each) and 10% to one hot key (above it),
// so most requests pass and the hot key's excess gets 429, at any throughput from ~1,000 to
// ~100,000 requests/s.
const CAPACITY = 100;
const REFILL_PER_SECOND = 100;

export class Limiter extends DurableObject {
  async fetch(request) {
    const now = Date.now();
    const state = (await this.ctx.storage.get("bucket")) ?? { tokens: CAPACITY, last: now };
    let tokens = Math.min(CAPACITY, state.tokens + ((now - state.last) * REFILL_PER_SECOND) / 1000);
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    await this.ctx.storage.put("bucket", { tokens, last: now });
    if (!allowed) return new Response("rate limited", { status: 429 });
    return new Response(String(Math.floor(tokens)));
  }
}

function objectFetch(ns, name, request) {
  return ns.get(ns.idFromName(name)).fetch(request);
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/stateless") return new Response("ok");
    if (path === "/hot") return objectFetch(env.COUNTER, "hot", request);
    if (path === "/read" || path === "/seed") return objectFetch(env.COUNTER, "read", request);
    if (path.startsWith("/spread/") && path.length > 8) {
      return objectFetch(env.COUNTER, path.slice(8), request);
    }
    if (path.startsWith("/limit/") && path.length > 7) {
      return objectFetch(env.LIMITER, path.slice(7), request);
    }
    return new Response("not found", { status: 404 });
  },
};
