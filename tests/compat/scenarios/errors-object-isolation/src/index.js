// One object that always throws (after a storage write and a timer) does not disturb other
// objects served at the same time, nor later requests to itself.
import { DurableObject } from "cloudflare:workers";

export class Job extends DurableObject {
  async run(shouldFail) {
    const n = ((await this.ctx.storage.get("runs")) ?? 0) + 1;
    await this.ctx.storage.put("runs", n);
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (shouldFail) throw new Error(`job ${this.ctx.id.name} failed on run ${n}`);
    return `${this.ctx.id.name} ok`;
  }
  async runs() {
    return (await this.ctx.storage.get("runs")) ?? 0;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name");
    const job = env.WORKERS.getByName(name);
    if (url.pathname === "/runs") return new Response(String(await job.runs()));
    const fail = url.searchParams.has("fail");
    try {
      return new Response(await job.run(fail));
    } catch (e) {
      return new Response(`caught: ${e.message}`, { status: 502 });
    }
  },
};
