// setHibernatableWebSocketEventTimeout: a webSocketMessage handler that runs past the timeout is
// cut off (what it would have sent later never leaves); the socket, its tags and its attachment
// stay, and the next message is handled.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server, ["player"]);
      server.serializeAttachment({ name: url.searchParams.get("name") });
      this.ctx.setHibernatableWebSocketEventTimeout(Number(url.searchParams.get("timeout")));
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "timeout") {
      return Response.json({
        timeout: this.ctx.getHibernatableWebSocketEventTimeout(),
        sockets: this.ctx.getWebSockets().length,
      });
    }
    return new Response("not found", { status: 404 });
  }

  async webSocketMessage(ws, message) {
    if (message === "hang") {
      ws.send("hanging");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      ws.send("late");
      return;
    }
    if (message === "quick") {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    ws.send(JSON.stringify({
      reply: message,
      attachment: ws.deserializeAttachment(),
      tags: this.ctx.getTags(ws),
      sockets: this.ctx.getWebSockets().length,
    }));
  }

  webSocketClose(ws, code, reason) {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
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
