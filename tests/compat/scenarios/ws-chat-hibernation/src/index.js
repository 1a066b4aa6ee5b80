// A chat room with the Hibernation API: every message is numbered by the room and sent to every
// socket, the sender's included, so all clients see one order.
import { DurableObject } from "cloudflare:workers";

export class ChatRoom extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "ws") {
      const user = url.searchParams.get("user");
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ user });
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "sockets") {
      return Response.json({ sockets: this.ctx.getWebSockets().length });
    }
    if (action === "history") {
      const history = (await this.ctx.storage.get("history")) ?? [];
      return Response.json({ count: history.length, sorted: history.map((m) => `${m.from}:${m.text}`).sort() });
    }
    return new Response("not found", { status: 404 });
  }

  async webSocketMessage(ws, message) {
    const { user } = ws.deserializeAttachment();
    const seq = ((await this.ctx.storage.get("seq")) ?? 0) + 1;
    const history = (await this.ctx.storage.get("history")) ?? [];
    history.push({ from: user, text: message });
    await this.ctx.storage.put({ seq, history });
    const out = JSON.stringify({ seq, from: user, text: message });
    for (const peer of this.ctx.getWebSockets()) peer.send(out);
  }

  webSocketClose(ws, code, reason) {
    // Completes the closing handshake (the Hibernation API does not answer a client's close frame
    // by itself); 1005 (no code) and 1006 (no close frame) may not be sent, so those get 1000.
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
