// URL and URLSearchParams as routers use them.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/parse") {
      const u = new URL("https://user:pw@Example.COM:8443/a/./b/../c%20d?x=1&y=%C3%A9#frag");
      const rel = new URL("../up?q=2", "https://example.com/a/b/c");
      let invalid;
      try {
        new URL("not a url");
      } catch (e) {
        invalid = e.name;
      }
      return Response.json({
        href: u.href,
        origin: u.origin,
        protocol: u.protocol,
        username: u.username,
        password: u.password,
        host: u.host,
        hostname: u.hostname,
        port: u.port,
        pathname: u.pathname,
        search: u.search,
        hash: u.hash,
        y: u.searchParams.get("y"),
        rel: rel.href,
        invalid,
        canParse: typeof URL.canParse === "function" ? [URL.canParse("https://a"), URL.canParse("nope")] : "missing",
      });
    }
    if (url.pathname === "/params") {
      const p = new URLSearchParams("b=2&a=1&a=0&space=a+b&enc=%26%3D");
      p.append("c", "x y&z");
      p.set("b", "3");
      p.delete("missing");
      const before = p.toString();
      p.sort();
      return Response.json({
        before,
        sorted: p.toString(),
        a: p.getAll("a"),
        space: p.get("space"),
        enc: p.get("enc"),
        has: p.has("c"),
        size: p.size,
        fromObject: new URLSearchParams({ k: "v", n: 1 }).toString(),
        fromPairs: new URLSearchParams([["x", "1"], ["x", "2"]]).toString(),
      });
    }
    if (url.pathname === "/build") {
      const u = new URL("https://api.example.com");
      u.pathname = "/v1/items";
      u.searchParams.set("limit", "10");
      u.searchParams.set("q", "ünï & more");
      u.hash = "top";
      return new Response(u.toString());
    }
    if (url.pathname === "/echo") {
      return Response.json({ pathname: url.pathname, search: url.search, params: Object.fromEntries(url.searchParams) });
    }
    return new Response("not found", { status: 404 });
  },
};
