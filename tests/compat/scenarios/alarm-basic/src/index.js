// Alarms that are due now or in the past fire; the handler gets alarmInfo and writes storage
// that a later request reads; getAlarm() is null once it has fired; a handler can set the next
// alarm (a recurring job).
import { DurableObject } from "cloudflare:workers";

export class Reminder extends DurableObject {
  async alarm(alarmInfo) {
    const fired = ((await this.ctx.storage.get("fired")) ?? 0) + 1;
    await this.ctx.storage.put("fired", fired);
    await this.ctx.storage.put("info", {
      retryCount: alarmInfo.retryCount,
      isRetry: alarmInfo.isRetry,
      alarmInsideHandler: await this.ctx.storage.getAlarm(),
    });
    const repeat = (await this.ctx.storage.get("repeat")) ?? 0;
    if (fired < repeat) await this.ctx.storage.setAlarm(Date.now() + 50);
  }

  async schedule(when, repeat) {
    await this.ctx.storage.put("repeat", repeat);
    const time = when === "now" ? Date.now() : when === "past" ? Date.now() - 60_000 : new Date(Date.now() + 20);
    await this.ctx.storage.setAlarm(time);
    return "scheduled";
  }

  async badTime() {
    try {
      await this.ctx.storage.setAlarm(0);
      return "accepted";
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  }

  async status() {
    return {
      fired: (await this.ctx.storage.get("fired")) ?? 0,
      info: (await this.ctx.storage.get("info")) ?? null,
      pending: (await this.ctx.storage.getAlarm()) !== null,
    };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const reminder = env.REMINDERS.getByName(url.searchParams.get("name") ?? "r");
    switch (url.pathname) {
      case "/schedule":
        return new Response(await reminder.schedule(url.searchParams.get("when"), Number(url.searchParams.get("repeat") ?? 1)));
      case "/status":
        return Response.json(await reminder.status());
      case "/bad-time":
        return new Response(await reminder.badTime());
    }
    return new Response("not found", { status: 404 });
  },
};
