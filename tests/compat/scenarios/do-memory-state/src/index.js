// In-memory state of an object (fields, closures, a Map) persists between requests to that
// object while it stays in memory; each object has its own.
import { DurableObject } from "cloudflare:workers";

export class Session extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.hits = 0;
    this.visitors = new Map();
    this.history = [];
  }

  async fetch(request) {
    const url = new URL(request.url);
    const who = url.searchParams.get("who") ?? "anonymous";
    this.hits++;
    this.visitors.set(who, (this.visitors.get(who) ?? 0) + 1);
    this.history.push(who);
    return Response.json({
      hits: this.hits,
      visitors: Object.fromEntries(this.visitors),
      lastThree: this.history.slice(-3),
    });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return env.SESSIONS.getByName(url.pathname.slice(1)).fetch(request);
  },
};
