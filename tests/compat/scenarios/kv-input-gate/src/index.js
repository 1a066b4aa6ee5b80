// The input gate: while an object awaits storage, no other event is delivered to it, so a
// naive read-modify-write is safe under concurrency.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/value") return new Response(String((await this.ctx.storage.get("n")) ?? 0));
    const v = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", v + 1);
    return new Response(String(v + 1));
  }

  // The same through RPC, with two reads and two writes per call.
  async add(amount) {
    const v = (await this.ctx.storage.get("total")) ?? 0;
    const calls = (await this.ctx.storage.get("calls")) ?? 0;
    await this.ctx.storage.put("total", v + amount);
    await this.ctx.storage.put("calls", calls + 1);
    return calls + 1;
  }

  async totals() {
    return { total: (await this.ctx.storage.get("total")) ?? 0, calls: (await this.ctx.storage.get("calls")) ?? 0 };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const counter = env.COUNTER.getByName(url.searchParams.get("name") ?? "c");
    if (url.pathname === "/add") return new Response(String(await counter.add(Number(url.searchParams.get("amount")))));
    if (url.pathname === "/totals") return Response.json(await counter.totals());
    return counter.fetch(request);
  },
};
