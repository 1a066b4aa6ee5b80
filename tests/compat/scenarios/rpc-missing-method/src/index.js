// What a caller sees when the method is not there: a missing method, a class field (not a
// method), a private-by-convention method, RPC to a class that does not extend DurableObject,
// and fetch() on a class without one.
import { DurableObject } from "cloudflare:workers";

export class Modern extends DurableObject {
  field = "instance fields are not RPC methods";
  hello() {
    return "hello";
  }
  get answer() {
    return 42;
  }
  _internal() {
    return "underscore methods are callable";
  }
  async fetch() {
    return new Response("modern fetch");
  }
}

export class NoFetch extends DurableObject {
  ping() {
    return "pong";
  }
}

export class Legacy {
  constructor(state, env) {
    this.state = state;
  }
  async fetch() {
    return new Response("legacy fetch");
  }
  hello() {
    return "not reachable over RPC";
  }
}

async function capture(fn) {
  try {
    const value = await fn();
    return { resolved: value instanceof Response ? `Response ${value.status}: ${await value.text()}` : value };
  } catch (e) {
    return { name: e.name, message: e.message, remote: e.remote };
  }
}

export default {
  async fetch(request, env) {
    const modern = env.MODERN.getByName("m");
    return Response.json({
      typeofMissing: typeof modern.doesNotExist,
      missing: await capture(() => modern.doesNotExist()),
      missingWithArgs: await capture(() => modern.alsoMissing(1, "two")),
      field: await capture(() => modern.field()),
      getter: await capture(async () => await modern.answer),
      underscore: await capture(() => modern._internal()),
      existing: await capture(() => modern.hello()),
      fetchStillWorks: await capture(() => modern.fetch("https://m/")),
      noFetchPing: await capture(() => env.NOFETCH.getByName("n").ping()),
      noFetch: await capture(() => env.NOFETCH.getByName("n").fetch("https://n/")),
      legacyRpc: await capture(() => env.LEGACY.getByName("l").hello()),
      legacyFetch: await capture(() => env.LEGACY.getByName("l").fetch("https://l/")),
    });
  },
};
