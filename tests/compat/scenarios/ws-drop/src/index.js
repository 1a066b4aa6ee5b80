// A client that disappears without a close frame (TCP closed or reset): which handler runs, with
// what code, reason, wasClean and readyState, and whether the socket is still listed.
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
    const socket = url.searchParams.get("socket");
    const { 0: client, 1: server } = new WebSocketPair();
    if (url.searchParams.get("api") === "standard") {
      server.accept();
      server.addEventListener("message", (event) => server.send(`echo:${event.data}`));
      server.addEventListener("close", (event) => {
        this.ctx.waitUntil(this.record({
          socket, handler: "close event", code: event.code, reason: event.reason,
          wasClean: event.wasClean, readyState: server.readyState,
        }));
      });
      server.addEventListener("error", (event) => {
        this.ctx.waitUntil(this.record({ socket, handler: "error event", message: event.message }));
      });
    } else {
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ socket });
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    ws.send(`echo:${message}`);
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const { socket } = ws.deserializeAttachment();
    await this.record({
      socket, handler: "webSocketClose", code, reason, wasClean,
      readyState: ws.readyState, listedDuring: this.ctx.getWebSockets().length,
    });
    // Nobody is listening any more, but 1006 may not be sent: close with 1000 to release it.
    ws.close(1000, "client gone");
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
