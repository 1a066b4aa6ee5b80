// ctx.waitUntil: work that continues after the response was sent, in the Worker and inside a
// Durable Object. A later poll sees its effect.
import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Journal extends DurableObject {
  async record(entry) {
    const entries = (await this.ctx.storage.get("entries")) ?? [];
    entries.push(entry);
    await this.ctx.storage.put("entries", entries);
  }

  async entries() {
    return (await this.ctx.storage.get("entries")) ?? [];
  }

  async fetch(request) {
    // The object's own waitUntil: answer now, write a little later.
    this.ctx.waitUntil(
      (async () => {
        await sleep(150);
        await this.record("from the object's waitUntil");
      })(),
    );
    return new Response("object accepted");
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const journal = env.JOURNAL.getByName("log");
    switch (url.pathname) {
      case "/background":
        ctx.waitUntil(
          (async () => {
            await sleep(150);
            await journal.record("from the worker's waitUntil");
          })(),
        );
        return new Response("accepted");
      case "/object-background":
        return journal.fetch("https://journal/record");
      case "/entries":
        return Response.json(await journal.entries());
      case "/sorted":
        return Response.json((await journal.entries()).sort());
    }
    return new Response("not found", { status: 404 });
  },
};
