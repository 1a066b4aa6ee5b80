// Tags of hibernatable WebSockets: acceptWebSocket(ws, tags), getWebSockets(tag), getTags(ws), and
// sending to the sockets of one tag from an HTTP request.
import { DurableObject } from "cloudflare:workers";

function attempt(f) {
  try {
    return { ok: f() ?? null };
  } catch (e) {
    return { error: `${e.name}: ${e.message}` };
  }
}

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    const tag = url.searchParams.get("tag");
    if (action === "ws") {
      const user = url.searchParams.get("user");
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server, [`user:${user}`, `room:${this.ctx.id.name}`]);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "count") {
      const sockets = tag === null ? this.ctx.getWebSockets() : this.ctx.getWebSockets(tag);
      return Response.json({ tag, count: sockets.length });
    }
    if (action === "all-tags") {
      return Response.json(this.ctx.getWebSockets().map((ws) => this.ctx.getTags(ws)));
    }
    if (action === "send") {
      const sockets = this.ctx.getWebSockets(tag);
      for (const ws of sockets) ws.send(url.searchParams.get("m"));
      return Response.json({ sent: sockets.length });
    }
    if (action === "cases") {
      // Sockets accepted here are never connected to a client; they only carry tags.
      const pair = () => new WebSocketPair()[1];
      const tagsAfter = (tags) => {
        const ws = pair();
        if (tags === undefined) this.ctx.acceptWebSocket(ws);
        else this.ctx.acceptWebSocket(ws, tags);
        return this.ctx.getTags(ws);
      };
      return Response.json({
        order: attempt(() => tagsAfter(["z", "a", "m"])),
        duplicates: attempt(() => tagsAfter(["a", "b", "a"])),
        empty: attempt(() => tagsAfter([""])),
        number: attempt(() => tagsAfter([1, 2.5])),
        none: attempt(() => tagsAfter(undefined)),
        emptyList: attempt(() => tagsAfter([])),
        notArray: attempt(() => tagsAfter("abc")),
        standardSocket: attempt(() => {
          const ws = pair();
          ws.accept();
          return this.ctx.getTags(ws);
        }),
        notAccepted: attempt(() => this.ctx.getTags(pair())),
        byTagA: this.ctx.getWebSockets("a").length,
      });
    }
    return new Response("not found", { status: 404 });
  }

  webSocketMessage(ws, message) {
    if (message === "tags") ws.send(JSON.stringify(this.ctx.getTags(ws)));
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
