// setTimeout/clearTimeout/setInterval awaited through promises, AbortController and
// AbortSignal, Event/EventTarget/CustomEvent, queueMicrotask, inside a Durable Object.
import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Clock extends DurableObject {
  async timers() {
    const order = [];
    const t1 = sleep(30).then(() => order.push("30ms"));
    const t2 = sleep(5).then(() => order.push("5ms"));
    const cancelled = setTimeout(() => order.push("cancelled timer ran"), 10);
    clearTimeout(cancelled);
    queueMicrotask(() => order.push("microtask"));
    order.push("sync");
    await Promise.all([t1, t2]);
    let ticks = 0;
    await new Promise((resolve) => {
      const id = setInterval(() => {
        ticks++;
        if (ticks === 3) {
          clearInterval(id);
          resolve();
        }
      }, 5);
    });
    const args = await new Promise((resolve) => setTimeout((a, b) => resolve([a, b]), 1, "x", 2));
    await sleep(20);
    return { order, ticks, args };
  }

  async abort() {
    const controller = new AbortController();
    const seen = [];
    controller.signal.addEventListener("abort", (e) => seen.push(`event:${e.type}`));
    const before = controller.signal.aborted;
    controller.abort(new Error("stop it"));
    controller.abort(new Error("second abort ignored"));
    let thrown;
    try {
      controller.signal.throwIfAborted();
    } catch (e) {
      thrown = e.message;
    }
    const plain = new AbortController();
    plain.abort();
    const already = AbortSignal.abort("why");
    // A pending promise that an abort rejects.
    const c2 = new AbortController();
    const pending = new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve("finished"), 1000);
      c2.signal.addEventListener("abort", () => {
        clearTimeout(t);
        reject(c2.signal.reason);
      });
    });
    setTimeout(() => c2.abort("cancelled by timer"), 5);
    const outcome = await pending.catch((reason) => `rejected: ${reason}`);
    return {
      before,
      after: controller.signal.aborted,
      reason: controller.signal.reason.message,
      seen,
      thrown,
      defaultReason: [plain.signal.reason.name, plain.signal.reason instanceof DOMException],
      already: [already.aborted, already.reason],
      outcome,
    };
  }

  events() {
    const target = new EventTarget();
    const log = [];
    const handler = (e) => log.push(`handler:${e.type}`);
    target.addEventListener("ping", handler);
    target.addEventListener("ping", handler); // duplicate registration is ignored
    target.addEventListener("ping", (e) => log.push(`once:${e.type}`), { once: true });
    target.addEventListener("custom", (e) => log.push(`custom:${JSON.stringify(e.detail)}`));
    target.addEventListener("cancel", (e) => e.preventDefault());
    target.dispatchEvent(new Event("ping"));
    target.dispatchEvent(new Event("ping"));
    target.removeEventListener("ping", handler);
    target.dispatchEvent(new Event("ping"));
    target.dispatchEvent(new CustomEvent("custom", { detail: { n: 1 } }));
    const notCancelled = target.dispatchEvent(new Event("cancel", { cancelable: true }));
    class Emitter extends EventTarget {}
    const em = new Emitter();
    let got = null;
    em.addEventListener("x", (e) => {
      got = [e.type, e.target === em, e instanceof Event];
    });
    em.dispatchEvent(new Event("x"));
    return { log, notCancelled, subclass: got };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const clock = env.CLOCK.getByName("c");
    if (url.pathname === "/timers") return Response.json(await clock.timers());
    if (url.pathname === "/abort") return Response.json(await clock.abort());
    if (url.pathname === "/events") return Response.json(await clock.events());
    return new Response("not found", { status: 404 });
  },
};
