// Closing from the object: ws.close(4000, "bye") in a handler or from an HTTP request. The socket
// is CLOSING until the client answers; then the close handler runs with the client's answer.
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
        listed: this.ctx.getWebSockets().length,
      });
    }
    if (action === "close-all") {
      const code = Number(url.searchParams.get("code"));
      const reason = url.searchParams.get("reason");
      const sockets = this.ctx.getWebSockets();
      for (const ws of sockets) ws.close(code, reason);
      return Response.json({
        closed: sockets.length,
        readyStates: sockets.map((ws) => ws.readyState),
        listed: this.ctx.getWebSockets().length,
      });
    }
    if (action !== "ws") return new Response("not found", { status: 404 });
    const socket = url.searchParams.get("socket");
    const { 0: client, 1: server } = new WebSocketPair();
    if (url.searchParams.get("api") === "standard") {
      server.accept();
      server.addEventListener("message", (event) => {
        if (event.data === "close-me") server.close(4000, "bye");
      });
      server.addEventListener("close", (event) => {
        this.ctx.waitUntil(this.record({
          socket, event: "close", code: event.code, reason: event.reason,
          wasClean: event.wasClean, readyState: server.readyState,
        }));
      });
    } else {
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ socket });
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const { socket } = ws.deserializeAttachment();
    if (message === "close-me") {
      ws.close(4000, "bye");
      await this.record({
        socket,
        afterClose: ws.readyState,
        send: outcome(() => ws.send("too late")),
        secondClose: outcome(() => ws.close(4001, "again")),
        listed: this.ctx.getWebSockets().length,
      });
    } else if (message === "close-default") {
      ws.close();
    } else {
      // A message that arrives after the object closed the socket is still delivered.
      await this.record({ socket, message, readyState: ws.readyState, send: outcome(() => ws.send("x")) });
    }
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const { socket } = ws.deserializeAttachment();
    await this.record({ socket, event: "webSocketClose", code, reason, wasClean, readyState: ws.readyState });
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
