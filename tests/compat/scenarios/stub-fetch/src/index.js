// stub.fetch with a URL string, a URL plus init, a new Request, and the incoming Request itself:
// the object echoes method, URL, headers and body; its status and headers come back.
import { DurableObject } from "cloudflare:workers";

export class Echo extends DurableObject {
  async fetch(request) {
    const body = await request.text();
    const headers = Object.fromEntries([...request.headers].filter(([k]) => k.startsWith("x-") || k === "content-type"));
    return Response.json(
      { method: request.method, url: request.url, headers, body },
      { status: 203, headers: { "x-from-object": "yes" } },
    );
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const echo = env.ECHO.getByName("echo");
    switch (url.pathname) {
      case "/string":
        return echo.fetch("https://object.internal/a/b?c=d");
      case "/string-init":
        return echo.fetch("https://object.internal/put", {
          method: "PUT",
          headers: { "X-Token": "t1", "Content-Type": "text/plain" },
          body: "init body",
        });
      case "/request":
        return echo.fetch(
          new Request("https://object.internal/req", {
            method: "POST",
            headers: { "x-one": "1", "x-two": "2" },
            body: JSON.stringify({ k: "v" }),
          }),
        );
      case "/request-plus-init":
        // init overrides the Request's method and headers; the body comes from init.
        return echo.fetch(new Request("https://object.internal/base", { method: "POST", headers: { "x-old": "old" }, body: "old body" }), {
          method: "PATCH",
          headers: { "x-new": "new" },
          body: "new body",
        });
      case "/url-object":
        return echo.fetch(new URL("https://object.internal/from-url-object?x=1"));
      case "/relative": {
        try {
          await echo.fetch("/relative/path");
          return new Response("accepted a relative URL");
        } catch (e) {
          return Response.json({ name: e.name, message: e.message });
        }
      }
    }
    // Anything else: forward the incoming request untouched.
    return echo.fetch(request);
  },
};
