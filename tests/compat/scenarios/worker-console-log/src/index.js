// console.* with all sorts of arguments, in the Worker and in a Durable Object: nothing breaks
// and the response is unaffected.
import { DurableObject } from "cloudflare:workers";

function logEverything(where) {
  const cyclic = { name: "cycle" };
  cyclic.self = cyclic;
  console.log("plain string from", where);
  console.log("numbers", 1, 2.5, -0, NaN, Infinity, 10n);
  console.info({ nested: { deep: [1, 2, { x: new Map([["k", "v"]]) }] } });
  console.warn("a warning", new Set([1, 2]));
  console.error(new Error("an error object, logged not thrown"));
  console.debug("debug", undefined, null, true, Symbol("s"));
  console.log(cyclic);
  console.log(new Uint8Array([1, 2, 3]), new Date(0));
  console.log("%s is %d years old", "Ada", 36);
  console.table?.([{ a: 1 }, { a: 2 }]);
  console.log();
  return "logged";
}

export class Logger extends DurableObject {
  async fetch() {
    return new Response(logEverything("object"));
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/worker") return new Response(logEverything("worker"));
    if (url.pathname === "/object") return env.LOGGER.getByName("l").fetch("https://logger/");
    return new Response("not found", { status: 404 });
  },
};
