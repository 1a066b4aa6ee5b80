// One Durable Object per counter name. Each increment is a read-modify-write on the object's
// storage: the input gate makes concurrent increments of one counter exact, and the response
// leaves only once the new value is durable.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async fetch(request) {
    if (request.method === "DELETE") {
      await this.ctx.storage.deleteAll();
      return new Response("0");
    }
    if (new URL(request.url).pathname.endsWith("/value")) {
      return new Response(String((await this.ctx.storage.get("value")) ?? 0));
    }
    return new Response(String(await this.increment()));
  }

  // Also callable over RPC: await env.COUNTER.getByName("x").increment(5)
  async increment(by = 1) {
    const value = ((await this.ctx.storage.get("value")) ?? 0) + by;
    await this.ctx.storage.put("value", value);
    return value;
  }
}

export default {
  async fetch(request, env) {
    const [, route, name] = new URL(request.url).pathname.split("/");
    if (route !== "counter" || !name) {
      return new Response("usage: /counter/<name>[/value]\n", { status: 404 });
    }
    return env.COUNTER.getByName(name).fetch(request);
  },
};
