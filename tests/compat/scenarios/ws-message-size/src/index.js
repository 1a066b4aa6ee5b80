// Received message size: up to 32 MiB (33554432 bytes) is delivered; a larger message closes the
// socket with 1009 and reaches the object as webSocketError.
import { DurableObject } from "cloudflare:workers";

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
        listed: this.ctx.getWebSockets().length,
      });
    }
    if (action !== "ws") return new Response("not found", { status: 404 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ socket: url.searchParams.get("socket") });
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    if (typeof message === "string") ws.send(`text of ${message.length} characters`);
    else ws.send(`binary of ${message.byteLength} bytes`);
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const { socket } = ws.deserializeAttachment();
    await this.record({ socket, handler: "webSocketClose", code, reason, wasClean });
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  async webSocketError(ws, error) {
    const { socket } = ws.deserializeAttachment();
    await this.record({ socket, handler: "webSocketError", error: `${error.name}: ${error.message}` });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name] = url.pathname.split("/");
    if (kind !== "room" || !name) return new Response("not found", { status: 404 });
    return env.ROOMS.getByName(name).fetch(request);
  },
};
