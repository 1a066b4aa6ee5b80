// Values of several types written to storage and read back (the reader says what type each one
// came back as), and an alarm that records when it fired.
import { DurableObject } from "cloudflare:workers";

const KEYS = ["str", "num", "obj", "map", "date"];

export class Vault extends DurableObject {
  async fetch(request) {
    const storage = this.ctx.storage;
    switch (new URL(request.url).pathname) {
      case "/write":
        await storage.put({
          str: "h\u00e9llo \u2603",
          num: -1234.5,
          obj: { nested: { list: [1, "two", null, true] }, n: 7 },
          map: new Map([["k1", 1], ["k2", { x: [2] }]]),
          date: new Date(1700000000123),
        });
        return new Response("written");
      case "/read": {
        const values = await storage.get(KEYS);
        const map = values.get("map");
        const date = values.get("date");
        return Response.json({
          keys: [...values.keys()],
          str: values.get("str"),
          num: values.get("num"),
          obj: values.get("obj"),
          map: map instanceof Map ? [...map] : `not a Map: ${typeof map}`,
          date: date instanceof Date ? date.getTime() : `not a Date: ${typeof date}`,
        });
      }
      case "/alarm/set": {
        const at = Date.now() + 1000;
        await storage.setAlarm(at);
        await storage.put("alarmAt", at);
        return new Response(String(at));
      }
      case "/alarm/status":
        return Response.json({
          at: (await storage.get("alarmAt")) ?? null,
          fired: (await storage.get("fired")) ?? 0,
          firedAt: (await storage.get("firedAt")) ?? null,
          pending: await storage.getAlarm(),
        });
    }
    return new Response("not found", { status: 404 });
  }

  async alarm() {
    const fired = ((await this.ctx.storage.get("fired")) ?? 0) + 1;
    await this.ctx.storage.put({ fired, firedAt: Date.now() });
  }
}

export default {
  async fetch(request, env) {
    return env.VAULT.getByName("vault").fetch(request);
  },
};
