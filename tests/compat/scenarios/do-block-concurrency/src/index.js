// blockConcurrencyWhile in the constructor: asynchronous initialization (a timer and storage
// reads) finishes before the first request is delivered, even when several arrive at once.
import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Config extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ready = false;
    this.constructions = 0;
    ctx.blockConcurrencyWhile(async () => {
      await sleep(100);
      const boots = ((await ctx.storage.get("boots")) ?? 0) + 1;
      await ctx.storage.put("boots", boots);
      this.settings = (await ctx.storage.get("settings")) ?? { theme: "light", version: 1 };
      this.boots = boots;
      this.ready = true;
    });
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/settings" && request.method === "PUT") {
      this.settings = await request.json();
      await this.ctx.storage.put("settings", this.settings);
    }
    if (url.pathname === "/block-in-request") {
      // blockConcurrencyWhile also works inside a request and returns the callback's value.
      const value = await this.ctx.blockConcurrencyWhile(async () => {
        await sleep(20);
        return "value from the callback";
      });
      return Response.json({ value });
    }
    return Response.json({ ready: this.ready, boots: this.boots, settings: this.settings });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return env.CONFIG.getByName(url.searchParams.get("name") ?? "cfg").fetch(request);
  },
};
