// A session per Durable Object (IDs from newUniqueId, so they cannot be guessed or collide).
// Steps are stored one key each ("step:000001", ...) so appending never rewrites the history, and
// list({ prefix }) reads them back in order. A transaction keeps the step counter and the step
// together; an alarm expires the whole session.
import { DurableObject } from "cloudflare:workers";

export class Session extends DurableObject {
  async start(owner) {
    const meta = { owner, state: "open", steps: 0, createdAt: Date.now() };
    await this.ctx.storage.put("meta", meta);
    await this.ctx.storage.setAlarm(Date.now() + Number(this.env.SESSION_TTL_MS));
    return meta;
  }

  async addStep(step) {
    return this.ctx.storage.transaction(async (txn) => {
      const meta = await txn.get("meta");
      if (!meta) throw new Error("no such session");
      if (meta.state !== "open") throw new Error("session is " + meta.state);
      meta.steps += 1;
      await txn.put({ meta, ["step:" + String(meta.steps).padStart(6, "0")]: step });
      return meta.steps;
    });
  }

  async read() {
    const meta = await this.ctx.storage.get("meta");
    if (!meta) return null;
    const steps = [...(await this.ctx.storage.list({ prefix: "step:" })).values()];
    return { ...meta, steps };
  }

  async complete() {
    const meta = await this.ctx.storage.get("meta");
    if (!meta) throw new Error("no such session");
    meta.state = "complete";
    await this.ctx.storage.put("meta", meta);
    return meta;
  }

  async alarm() {
    await this.ctx.storage.deleteAll();
  }
}

async function json(request) {
  try {
    return await request.json();
  } catch {
    return null;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, route, id, action] = url.pathname.split("/");
    if (route !== "sessions") return new Response("not found\n", { status: 404 });
    if (request.method === "POST" && !id) {
      const body = await json(request);
      const sessionId = env.SESSIONS.newUniqueId();
      await env.SESSIONS.get(sessionId).start(body?.owner ?? "anonymous");
      return Response.json({ id: sessionId.toString() }, { status: 201 });
    }
    let stub;
    try {
      stub = env.SESSIONS.get(env.SESSIONS.idFromString(id));
    } catch (e) {
      return Response.json({ error: e.message }, { status: 400 });
    }
    try {
      if (request.method === "POST" && action === "steps") {
        const step = await json(request);
        if (step === null) return Response.json({ error: "a step is a JSON body" }, { status: 400 });
        return Response.json({ step: await stub.addStep(step) });
      }
      if (request.method === "POST" && action === "complete") {
        return Response.json(await stub.complete());
      }
      if (request.method === "GET" && !action) {
        const session = await stub.read();
        return session
          ? Response.json({ owner: session.owner, state: session.state, steps: session.steps })
          : Response.json({ error: "no such session" }, { status: 404 });
      }
    } catch (e) {
      return Response.json({ error: e.message }, { status: 409 });
    }
    return new Response("not found\n", { status: 404 });
  },
};
