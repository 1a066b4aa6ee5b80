// Hibernation: the object is evicted from memory while its WebSocket stays connected. A new
// instance (the constructor runs again) handles the next event; the socket, its tags, its
// attachment and the auto-response are still there; fields set in memory are not.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.memory = "fresh instance";
    ctx.blockConcurrencyWhile(async () => {
      this.constructions = ((await ctx.storage.get("constructions")) ?? 0) + 1;
      await ctx.storage.put("constructions", this.constructions);
    });
  }

  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server, ["player"]);
      server.serializeAttachment({
        name: url.searchParams.get("name"),
        acceptedByConstruction: this.constructions,
        messages: 0,
      });
      this.memory = "set by fetch";
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "auto-response") {
      this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
      return new Response("set");
    }
    if (action === "state") {
      return Response.json({
        constructions: this.constructions,
        memory: this.memory,
        sockets: this.ctx.getWebSockets().length,
      });
    }
    return new Response("not found", { status: 404 });
  }

  webSocketMessage(ws, message) {
    const attachment = ws.deserializeAttachment();
    attachment.messages++;
    ws.serializeAttachment(attachment);
    ws.send(JSON.stringify({
      reply: message,
      attachment,
      tags: this.ctx.getTags(ws),
      constructions: this.constructions,
      memory: this.memory,
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
