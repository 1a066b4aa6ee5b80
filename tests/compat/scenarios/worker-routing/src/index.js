// A Worker with no Durable Objects: path-based dispatch, method, URL, headers and query string.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/":
        return new Response("home");
      case "/method":
        return new Response(request.method);
      case "/url":
        return Response.json({
          href: request.url,
          pathname: url.pathname,
          search: url.search,
          host: url.host,
          protocol: url.protocol,
        });
      case "/query":
        return Response.json({
          q: url.searchParams.get("q"),
          all: url.searchParams.getAll("tag"),
          missing: url.searchParams.get("missing"),
          entries: [...url.searchParams.entries()],
        });
      case "/headers":
        return Response.json({
          custom: request.headers.get("X-Custom"),
          lower: request.headers.get("x-custom"),
          absent: request.headers.get("x-absent"),
          has: request.headers.has("x-custom"),
        });
      case "/echo-header":
        return new Response("ok", { headers: { "x-echo": request.headers.get("x-in") ?? "none" } });
    }
    if (url.pathname.startsWith("/users/")) {
      const id = url.pathname.slice("/users/".length);
      return Response.json({ user: decodeURIComponent(id) });
    }
    return new Response("not found: " + url.pathname, { status: 404 });
  },
};
