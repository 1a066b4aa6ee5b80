// An object whose constructor throws for some names: callers of those objects get the
// constructor's error (fetch and RPC), every other object works.
import { DurableObject } from "cloudflare:workers";

export class Fragile extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    if (ctx.id.name.startsWith("bad")) throw new RangeError("constructor failed for " + ctx.id.name);
  }
  async fetch() {
    return new Response("fine " + this.ctx.id.name);
  }
  hello() {
    return "hello " + this.ctx.id.name;
  }
}

async function capture(fn) {
  try {
    const v = await fn();
    return { ok: v instanceof Response ? await v.text() : v };
  } catch (e) {
    return { name: e.name, message: e.message, isRangeError: e instanceof RangeError };
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1);
    const stub = env.FRAGILE.getByName(name);
    return Response.json({
      fetch: await capture(() => stub.fetch("https://x/")),
      rpc: await capture(() => stub.hello()),
    });
  },
};
