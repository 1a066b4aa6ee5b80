// Building responses: Response.json, Response.redirect, status codes, empty bodies, custom
// headers, binary bodies; made inside a Durable Object and passed back through stub.fetch.
import { DurableObject } from "cloudflare:workers";

export class Pages extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/json":
        return Response.json({ ok: true, list: [1, "two"], nothing: null });
      case "/json-status":
        return Response.json({ error: "teapot" }, { status: 418, headers: { "x-extra": "yes" } });
      case "/json-override-type":
        return Response.json({ a: 1 }, { headers: { "content-type": "application/vnd.api+json" } });
      case "/redirect":
        return Response.redirect("https://example.com/target?x=1");
      case "/redirect-301":
        return Response.redirect("https://example.com/moved", 301);
      case "/redirect-bad":
        try {
          return Response.redirect("https://example.com/", 200);
        } catch (e) {
          return Response.json({ name: e.name });
        }
      case "/no-content":
        return new Response(null, { status: 204 });
      case "/created":
        return new Response("made", { status: 201, headers: { location: "/things/1" } });
      case "/binary":
        return new Response(new Uint8Array([104, 105, 0, 255]), { headers: { "content-type": "application/octet-stream" } });
      case "/properties": {
        const r = new Response("body", { status: 299 });
        const clone = r.clone();
        return Response.json({
          status: r.status,
          ok: r.ok,
          notOk: new Response(null, { status: 404 }).ok,
          bodyUsed: r.bodyUsed,
          cloneText: await clone.text(),
          text: await r.text(),
          bodyUsedAfter: r.bodyUsed,
          defaultType: new Response("x").headers.get("content-type"),
          jsonType: Response.json(1).headers.get("content-type"),
        });
      }
    }
    return new Response("no such page", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.PAGES.getByName("pages").fetch(request);
  },
};
