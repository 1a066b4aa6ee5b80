// readyState of the object's end of a WebSocket over its life, with both APIs:
// 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  // Appends to the stored list; one append at a time (listeners start them without waiting).
  record(socket, moment, readyState) {
    const line = `${socket} ${moment}: ${readyState}`;
    this.appending = (this.appending ?? Promise.resolve()).then(async () => {
      const states = (await this.ctx.storage.get("states")) ?? [];
      states.push(line);
      await this.ctx.storage.put("states", states);
    });
    return this.appending;
  }

  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "states") return Response.json((await this.ctx.storage.get("states")) ?? []);
    if (action === "constants") {
      const ws = new WebSocketPair()[1];
      return Response.json({
        static: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
        instance: [ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED],
      });
    }
    if (action !== "ws") return new Response("not found", { status: 404 });
    const socket = url.searchParams.get("socket");
    const { 0: client, 1: server } = new WebSocketPair();
    await this.record(socket, "new pair, client end", client.readyState);
    await this.record(socket, "new pair, server end", server.readyState);
    if (url.searchParams.get("api") === "standard") {
      server.accept();
      await this.record(socket, "after accept()", server.readyState);
      server.addEventListener("message", (event) => {
        this.ctx.waitUntil(this.record(socket, "in message event", server.readyState));
        if (event.data === "close-me") {
          server.close(4000, "bye");
          this.ctx.waitUntil(this.record(socket, "after close()", server.readyState));
        }
      });
      server.addEventListener("close", () => {
        this.ctx.waitUntil(this.record(socket, "in close event", server.readyState));
      });
    } else {
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ socket });
      await this.record(socket, "after acceptWebSocket()", server.readyState);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const { socket } = ws.deserializeAttachment();
    await this.record(socket, "in webSocketMessage", ws.readyState);
    if (message === "close-me") {
      ws.close(4000, "bye");
      await this.record(socket, "after close()", ws.readyState);
    }
  }

  async webSocketClose(ws, code) {
    const { socket } = ws.deserializeAttachment();
    await this.record(socket, `in webSocketClose (${code})`, ws.readyState);
    if (ws.readyState !== WebSocket.CLOSED) {
      ws.close(1000, "");
      await this.record(socket, "after close() in webSocketClose", ws.readyState);
    }
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
