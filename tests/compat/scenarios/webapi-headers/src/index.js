// The Headers class: case-insensitivity, append vs set, iteration order, Set-Cookie, and
// headers sent back to the client.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/api") {
      const h = new Headers({ "X-B": "2", "x-a": "1" });
      h.append("X-Multi", "one");
      h.append("x-multi", "two");
      h.set("X-Replaced", "old");
      h.set("x-replaced", "new");
      h.append("Set-Cookie", "a=1");
      h.append("Set-Cookie", "b=2");
      const result = {
        get: h.get("X-A"),
        multi: h.get("x-multi"),
        replaced: h.get("X-REPLACED"),
        has: [h.has("x-b"), h.has("x-c")],
        entries: [...h.entries()],
        keys: [...h.keys()],
        getSetCookie: h.getSetCookie(),
      };
      h.delete("X-B");
      result.afterDelete = [...h.keys()];
      try {
        h.set("bad header", "x");
        result.invalidName = "accepted";
      } catch (e) {
        result.invalidName = e.name;
      }
      return Response.json(result);
    }
    if (url.pathname === "/request-headers") {
      // Only the headers this test sends; the client adds others (host, user-agent...).
      const mine = [...request.headers].filter(([k]) => k.startsWith("x-"));
      return Response.json(mine);
    }
    if (url.pathname === "/response-headers") {
      const headers = new Headers();
      headers.set("X-Custom-Header", "Some Value");
      headers.append("x-list", "a");
      headers.append("x-list", "b");
      headers.append("set-cookie", "session=abc; Path=/");
      headers.append("set-cookie", "theme=dark");
      headers.set("cache-control", "no-store");
      return new Response("with headers", { headers });
    }
    return new Response("not found", { status: 404 });
  },
};
