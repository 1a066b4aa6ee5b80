// Sending to WebSockets from an HTTP request: the object keeps no list of its own, it asks
// ctx.getWebSockets() (Hibernation API) — and standard sockets it kept in a Set.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.standard = new Set();
  }

  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      if (url.searchParams.get("api") === "standard") {
        server.accept();
        this.standard.add(server);
        server.addEventListener("close", (event) => {
          this.standard.delete(server);
          server.close(event.code === 1005 || event.code === 1006 ? 1000 : event.code, event.reason);
        });
      } else {
        this.ctx.acceptWebSocket(server);
      }
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "broadcast") {
      const body = await request.text();
      const hibernatable = this.ctx.getWebSockets();
      // Several sends in one request arrive in order, at every socket.
      for (const ws of [...hibernatable, ...this.standard]) {
        ws.send(`${body} (1/2)`);
        ws.send(`${body} (2/2)`);
      }
      return Response.json({ hibernatable: hibernatable.length, standard: this.standard.size });
    }
    if (action === "binary") {
      const bytes = new Uint8Array(await request.arrayBuffer());
      for (const ws of this.ctx.getWebSockets()) ws.send(bytes);
      return Response.json({ sent: this.ctx.getWebSockets().length });
    }
    return new Response("not found", { status: 404 });
  }

  webSocketMessage(ws, message) {
    // A message from one client goes to all the others.
    for (const peer of this.ctx.getWebSockets()) if (peer !== ws) peer.send(`relay:${message}`);
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
