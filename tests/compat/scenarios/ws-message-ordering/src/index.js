// Order: messages sent in one handler leave in order; client messages are handled in arrival
// order while handlers only await storage (the input gate stays closed); a handler that awaits a
// timer lets the next messages be handled first.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "handled") return Response.json((await this.ctx.storage.get("handled")) ?? []);
    return new Response("not found", { status: 404 });
  }

  async webSocketMessage(ws, message) {
    const [command, arg] = message.split(" ");
    if (command === "burst") {
      for (let i = 0; i < Number(arg); i++) ws.send(`${i}`);
    } else if (command === "mixed") {
      // Sends with storage operations in between, and a binary one.
      ws.send("m1");
      await this.ctx.storage.put("mixed", 1);
      ws.send("m2");
      ws.send(new Uint8Array([3]));
      await this.ctx.storage.get("mixed");
      ws.send("m4");
    } else if (command === "slow") {
      await new Promise((resolve) => setTimeout(resolve, 300));
      ws.send(`done:${message}`);
    } else {
      // Read-modify-write of a list: correct only if handlers do not interleave.
      const handled = (await this.ctx.storage.get("handled")) ?? [];
      handled.push(message);
      await this.ctx.storage.put("handled", handled);
      ws.send(`done:${message}`);
    }
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
