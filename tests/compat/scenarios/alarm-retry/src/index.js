// A throwing alarm handler is retried: the retry's alarmInfo says retryCount 1 and isRetry true.
// After a run that does not throw the alarm is gone.
import { DurableObject } from "cloudflare:workers";

export class Flaky extends DurableObject {
  async alarm(alarmInfo) {
    const runs = (await this.ctx.storage.get("runs")) ?? [];
    runs.push({ retryCount: alarmInfo.retryCount, isRetry: alarmInfo.isRetry });
    await this.ctx.storage.put("runs", runs);
    const failures = (await this.ctx.storage.get("failures")) ?? 0;
    if (runs.length <= failures) throw new Error(`alarm attempt ${runs.length} fails on purpose`);
    await this.ctx.storage.put("done", true);
  }

  async start(failures) {
    await this.ctx.storage.put("failures", failures);
    await this.ctx.storage.setAlarm(Date.now());
    return "started";
  }

  async report() {
    return {
      runs: (await this.ctx.storage.get("runs")) ?? [],
      done: (await this.ctx.storage.get("done")) ?? false,
      pending: (await this.ctx.storage.getAlarm()) !== null,
    };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const flaky = env.FLAKY.getByName(url.searchParams.get("name") ?? "f");
    if (url.pathname === "/start") return new Response(await flaky.start(Number(url.searchParams.get("failures"))));
    if (url.pathname === "/report") return Response.json(await flaky.report());
    return new Response("not found", { status: 404 });
  },
};
