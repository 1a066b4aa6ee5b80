// The main module re-exports a Durable Object class defined in another file; helpers come from
// a folder through relative imports, and a JSON file is imported as a module.
import { Tally } from "./objects/tally.js";
import * as lib from "./lib/index.js";
import settings from "./settings.json";

export { Tally };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/lib") {
      return Response.json({
        exports: Object.keys(lib).sort(),
        sum: lib.sum([1, 2, 3]),
        clamp: lib.clamp(42, 0, 10),
        summary: lib.summary([2, 4]),
        settings,
      });
    }
    if (url.pathname === "/add") {
      const value = Number(url.searchParams.get("v"));
      return Response.json(await env.TALLY.getByName("main").add(value));
    }
    return new Response("not found", { status: 404 });
  },
};
