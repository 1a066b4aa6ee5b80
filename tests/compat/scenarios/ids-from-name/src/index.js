// idFromName: a 64-hex-digit ID, stable for a name across requests, different per name and per
// namespace; id.name, equals(), toString(); the object sees the same ID as ctx.id.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  whoami() {
    return { id: this.ctx.id.toString(), name: this.ctx.id.name };
  }
}

export class Other extends DurableObject {}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "";
    if (url.pathname === "/id") {
      return new Response(env.ROOMS.idFromName(name).toString());
    }
    if (url.pathname === "/props") {
      const id = env.ROOMS.idFromName(name);
      const again = env.ROOMS.idFromName(name);
      const different = env.ROOMS.idFromName(name + "-other");
      const otherNs = env.OTHER.idFromName(name);
      return Response.json({
        hex: /^[0-9a-f]{64}$/.test(id.toString()),
        name: id.name,
        stringified: String(id) === id.toString(),
        sameName: again.toString() === id.toString(),
        equalsSame: id.equals(again),
        equalsDifferent: id.equals(different),
        differentName: different.toString() !== id.toString(),
        otherNamespaceDiffers: otherNs.toString() !== id.toString(),
        json: JSON.stringify(id),
      });
    }
    if (url.pathname === "/inside") {
      const id = env.ROOMS.idFromName(name);
      const seen = await env.ROOMS.get(id).whoami();
      return Response.json({ sameId: seen.id === id.toString(), name: seen.name });
    }
    return new Response("not found", { status: 404 });
  },
};
