// Closing from the client: what the object's close handler sees (the standard API's "close"
// event, or the Hibernation API's webSocketClose) and whether the client gets a close frame back.
// /room/<name>/ws?socket=<label>&api=standard|hibernation&reply=0|1: with reply=1 the handler
// calls close(code, reason) itself, as Cloudflare's examples do.
import { DurableObject } from "cloudflare:workers";

function outcome(f) {
  try {
    f();
    return "ok";
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

export class Room extends DurableObject {
  async record(event) {
    const events = (await this.ctx.storage.get("events")) ?? [];
    events.push(event);
    await this.ctx.storage.put("events", events);
  }

  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "events") {
      return Response.json({
        events: (await this.ctx.storage.get("events")) ?? [],
        hibernatableSockets: this.ctx.getWebSockets().length,
      });
    }
    if (action === "binary-type") {
      return Response.json({ defaultBinaryType: new WebSocketPair()[1].binaryType });
    }
    if (action !== "ws") return new Response("not found", { status: 404 });
    const socket = url.searchParams.get("socket");
    const reply = url.searchParams.get("reply") === "1";
    const { 0: client, 1: server } = new WebSocketPair();
    if (url.searchParams.get("api") === "hibernation") {
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ socket, reply });
    } else {
      server.accept();
      server.addEventListener("close", (event) => {
        const seen = {
          socket, api: "standard", code: event.code, reason: event.reason,
          wasClean: event.wasClean, readyState: server.readyState,
        };
        if (reply) {
          seen.reply = outcome(() => server.close(event.code, event.reason));
          seen.readyStateAfter = server.readyState;
        }
        this.ctx.waitUntil(this.record(seen));
      });
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const { socket, reply } = ws.deserializeAttachment();
    const seen = { socket, api: "hibernation", code, reason, wasClean, readyState: ws.readyState };
    if (reply) {
      seen.reply = outcome(() => ws.close(code, reason));
      seen.readyStateAfter = ws.readyState;
    }
    await this.record(seen);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name] = url.pathname.split("/");
    if (kind !== "room" || !name) return new Response("not found", { status: 404 });
    return env.ROOMS.get(env.ROOMS.idFromName(name)).fetch(request);
  },
};
