// Upgrade handling: the Worker answers 426 to a plain request on the WebSocket route (as in
// Cloudflare's examples), an object can refuse an upgrade with any status, what an object sees of
// the upgrade request, and the errors for 101 responses built wrongly.
import { DurableObject } from "cloudflare:workers";

function describeError(f) {
  try {
    f();
    return "no error";
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "refuse") {
      return Response.json({ refused: true, upgrade: request.headers.get("Upgrade") }, { status: 403 });
    }
    if (action === "inspect") {
      // Answered with a normal response, so the client reads what the object saw.
      return Response.json({
        upgrade: request.headers.get("Upgrade"),
        version: request.headers.get("Sec-WebSocket-Version"),
        hasKey: request.headers.has("Sec-WebSocket-Key"),
        method: request.method,
      });
    }
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("object: expected a WebSocket upgrade", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    ws.send(`room:${message}`);
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
    if (url.pathname === "/errors") {
      const { 0: client } = new WebSocketPair();
      return Response.json({
        status101WithoutWebSocket: describeError(() => new Response(null, { status: 101 })),
        webSocketWithStatus200: describeError(() => new Response(null, { status: 200, webSocket: client })),
      });
    }
    if (url.pathname === "/always-101") {
      // Answers 101 even to a plain request: the runtime refuses to send it (500).
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      return new Response(null, { status: 101, webSocket: client });
    }
    const [, kind, name, action] = url.pathname.split("/");
    if (kind !== "room" || !name) return new Response("not found", { status: 404 });
    if (action === "ws" && request.headers.get("Upgrade") !== "websocket") {
      return new Response("Expected Upgrade: websocket", { status: 426 });
    }
    return env.ROOMS.getByName(name).fetch(request);
  },
};
