// newUniqueId: a fresh ID each call, no name; its string form reaches the same object again
// through idFromString in a later request.
import { DurableObject } from "cloudflare:workers";

export class Doc extends DurableObject {
  async write(text) {
    await this.ctx.storage.put("text", text);
    return { id: this.ctx.id.toString(), name: this.ctx.id.name ?? "(undefined)" };
  }
  async read() {
    return { text: (await this.ctx.storage.get("text")) ?? null, id: this.ctx.id.toString() };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/props") {
      const a = env.DOCS.newUniqueId();
      const b = env.DOCS.newUniqueId();
      const back = env.DOCS.idFromString(a.toString());
      return Response.json({
        hex: /^[0-9a-f]{64}$/.test(a.toString()),
        differ: a.toString() !== b.toString(),
        equalsOther: a.equals(b),
        name: a.name === undefined ? "(undefined)" : a.name,
        roundTrip: back.toString() === a.toString(),
        roundTripEquals: back.equals(a) && a.equals(back),
        roundTripName: back.name === undefined ? "(undefined)" : back.name,
        namedRoundTripName: env.DOCS.idFromString(env.DOCS.idFromName("n").toString()).name ?? "(undefined)",
        json: JSON.stringify(a),
      });
    }
    if (url.pathname === "/create") {
      const id = env.DOCS.newUniqueId();
      const seen = await env.DOCS.get(id).write(url.searchParams.get("text"));
      if (seen.id !== id.toString()) return new Response("object saw another id", { status: 500 });
      if (seen.name !== "(undefined)") return new Response("unique id has a name inside", { status: 500 });
      return new Response(id.toString());
    }
    if (url.pathname === "/read") {
      const id = env.DOCS.idFromString(url.searchParams.get("id"));
      return Response.json(await env.DOCS.get(id).read());
    }
    return new Response("not found", { status: 404 });
  },
};
