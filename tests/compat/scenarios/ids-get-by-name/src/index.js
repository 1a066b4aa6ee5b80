// getByName(name) is the same object as get(idFromName(name)); the stub exposes id and name.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async increment() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return n;
  }
  whoami() {
    return { id: this.ctx.id.toString(), name: this.ctx.id.name };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name");
    switch (url.pathname) {
      case "/by-name":
        return new Response(String(await env.COUNTERS.getByName(name).increment()));
      case "/by-id":
        return new Response(String(await env.COUNTERS.get(env.COUNTERS.idFromName(name)).increment()));
      case "/stub": {
        const stub = env.COUNTERS.getByName(name);
        const viaId = env.COUNTERS.get(env.COUNTERS.idFromName(name));
        const inside = await stub.whoami();
        return Response.json({
          stubName: stub.name,
          stubIdName: stub.id.name,
          stubIdEquals: stub.id.equals(env.COUNTERS.idFromName(name)),
          viaIdName: viaId.name,
          sameHex: stub.id.toString() === viaId.id.toString(),
          insideId: inside.id === stub.id.toString(),
          insideName: inside.name,
        });
      }
    }
    return new Response("not found", { status: 404 });
  },
};
