// An exception in an object's fetch(): uncaught by the Worker it is a 500 for the client; caught,
// it is an error with the object's message, marked remote. The object is not reset.
import { DurableObject } from "cloudflare:workers";

export class Fragile extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.requests = 0;
  }
  async fetch(request) {
    const url = new URL(request.url);
    this.requests++;
    if (url.pathname === "/throw") throw new Error("object fetch failed");
    if (url.pathname === "/throw-type") throw new TypeError("bad input in object");
    if (url.pathname === "/throw-async") {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new RangeError("failed after a timer");
    }
    if (url.pathname === "/not-a-response") return { status: 200 };
    return Response.json({ requests: this.requests });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.FRAGILE.getByName(url.searchParams.get("name") ?? "f");
    if (url.pathname.startsWith("/caught/")) {
      try {
        const r = await stub.fetch(`https://fragile/${url.pathname.slice("/caught/".length)}`);
        return new Response(`no error: ${r.status}`);
      } catch (e) {
        return Response.json({ name: e.name, message: e.message, remote: e.remote, isError: e instanceof Error });
      }
    }
    // Uncaught: whatever the stub throws propagates out of the Worker.
    return stub.fetch(request);
  },
};
