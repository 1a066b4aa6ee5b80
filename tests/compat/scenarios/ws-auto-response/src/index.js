// setWebSocketAutoResponse: the runtime answers a matching text message itself, without calling
// webSocketMessage, and records when it did (getWebSocketAutoResponseTimestamp).
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ name: url.searchParams.get("name"), connectedAt: Date.now() });
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "auto" && request.method === "PUT") {
      this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    } else if (action === "auto" && request.method === "DELETE") {
      this.ctx.setWebSocketAutoResponse();
    } else if (action !== "state") {
      return new Response("not found", { status: 404 });
    }
    const pair = this.ctx.getWebSocketAutoResponse();
    const now = Date.now();
    const timestamps = {};
    for (const ws of this.ctx.getWebSockets()) {
      const { name, connectedAt } = ws.deserializeAttachment();
      const t = this.ctx.getWebSocketAutoResponseTimestamp(ws);
      timestamps[name] = t === null ? null : {
        isDate: t instanceof Date,
        notBeforeConnect: t.getTime() >= connectedAt,
        notInFuture: t.getTime() <= now,
      };
    }
    return Response.json({
      autoResponse: pair === null ? null : {
        request: pair.request,
        response: pair.response,
        isPair: pair instanceof WebSocketRequestResponsePair,
      },
      handlerCalls: (await this.ctx.storage.get("handlerCalls")) ?? 0,
      timestamps,
    });
  }

  async webSocketMessage(ws, message) {
    const handlerCalls = ((await this.ctx.storage.get("handlerCalls")) ?? 0) + 1;
    await this.ctx.storage.put("handlerCalls", handlerCalls);
    if (typeof message === "string") ws.send(`handler:${message}`);
    else ws.send(message);
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
