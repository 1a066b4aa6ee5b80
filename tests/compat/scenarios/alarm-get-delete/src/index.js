// getAlarm returns the scheduled time; setting again replaces it; deleteAlarm cancels it (a
// deleted alarm never fires); deleteAll removes it too (compatibility date after 2026-02-24).
import { DurableObject } from "cloudflare:workers";

export class Timer extends DurableObject {
  async alarm() {
    await this.ctx.storage.put("fired", true);
  }

  async times() {
    const s = this.ctx.storage;
    const r = { initially: await s.getAlarm() };
    const t1 = Date.now() + 3_600_000;
    await s.setAlarm(t1);
    r.afterSet = (await s.getAlarm()) === t1;
    r.type = typeof (await s.getAlarm());
    const t2 = t1 + 1000;
    await s.setAlarm(new Date(t2));
    r.replaced = (await s.getAlarm()) === t2;
    const deleted = await s.deleteAlarm();
    r.deleteReturned = deleted === undefined ? "(undefined)" : deleted;
    r.afterDelete = await s.getAlarm();
    r.deleteAgain = (await s.deleteAlarm()) === undefined ? "(undefined)" : "?";
    // Un-awaited: set then read in the same turn.
    s.setAlarm(t1);
    r.readOwnSet = (await s.getAlarm()) === t1;
    await s.deleteAlarm();
    return r;
  }

  async armThenCancel(ms) {
    await this.ctx.storage.setAlarm(Date.now() + ms);
    await this.ctx.storage.deleteAlarm();
    return "cancelled";
  }

  async arm(ms) {
    await this.ctx.storage.setAlarm(Date.now() + ms);
    return "armed";
  }

  async armThenDeleteAll() {
    await this.ctx.storage.put("data", 1);
    await this.ctx.storage.setAlarm(Date.now() + 3_600_000);
    await this.ctx.storage.deleteAll();
    return { alarm: await this.ctx.storage.getAlarm(), data: (await this.ctx.storage.get("data")) ?? null };
  }

  async fired() {
    return { fired: (await this.ctx.storage.get("fired")) ?? false, pending: (await this.ctx.storage.getAlarm()) !== null };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const timer = env.TIMERS.getByName(url.searchParams.get("name") ?? "t");
    switch (url.pathname) {
      case "/times":
        return Response.json(await timer.times());
      case "/arm-then-cancel":
        return new Response(await timer.armThenCancel(Number(url.searchParams.get("ms"))));
      case "/arm":
        return new Response(await timer.arm(Number(url.searchParams.get("ms"))));
      case "/arm-then-delete-all":
        return Response.json(await timer.armThenDeleteAll());
      case "/fired":
        return Response.json(await timer.fired());
    }
    return new Response("not found", { status: 404 });
  },
};
