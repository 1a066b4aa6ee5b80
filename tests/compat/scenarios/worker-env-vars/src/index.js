// [vars] reach the Worker's env and the Durable Object's env: strings as strings, everything
// else as parsed JSON.
import { DurableObject } from "cloudflare:workers";

function describe(env) {
  return {
    GREETING: env.GREETING,
    EMPTY: env.EMPTY,
    LIMITS: env.LIMITS,
    RETRIES: env.RETRIES,
    RATIO: env.RATIO,
    ENABLED: env.ENABLED,
    LIST: env.LIST,
    types: {
      GREETING: typeof env.GREETING,
      LIMITS: typeof env.LIMITS,
      RETRIES: typeof env.RETRIES,
      ENABLED: typeof env.ENABLED,
      LIST: Array.isArray(env.LIST),
    },
    missing: env.NOT_DEFINED === undefined,
    hasBinding: typeof env.READER?.idFromName === "function",
  };
}

export class EnvReader extends DurableObject {
  read() {
    return describe(this.env);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/worker") return Response.json(describe(env));
    if (url.pathname === "/object") return Response.json(await env.READER.getByName("env").read());
    if (url.pathname === "/keys") {
      return Response.json(Object.keys(env).sort());
    }
    return new Response("not found", { status: 404 });
  },
};
