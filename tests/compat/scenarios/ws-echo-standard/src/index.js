// The standard WebSocket API: a WebSocketPair, server.accept(), addEventListener("message"),
// text and binary echo. In an object (/echo/<name>) and in the stateless Worker (/worker-echo).
import { DurableObject } from "cloudflare:workers";

export class Echo extends DurableObject {
  async fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("Expected Upgrade: websocket", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const defaultBinaryType = server.binaryType;
    server.accept();
    server.binaryType = "arraybuffer";
    server.addEventListener("message", (event) => {
      if (event.data === "info") {
        server.send(JSON.stringify({
          defaultBinaryType,
          binaryType: server.binaryType,
          readyState: server.readyState,
          constants: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
        }));
      } else if (typeof event.data === "string") {
        server.send(`echo:${event.data}`);
      } else {
        // Binary arrives as an ArrayBuffer (binaryType "arraybuffer"); answer the bytes reversed.
        server.send(new Uint8Array(event.data).reverse());
      }
    });
    // A subprotocol the client asked for is chosen by answering with its name.
    const headers = { "x-echo": "standard" };
    const wanted = request.headers.get("Sec-WebSocket-Protocol");
    if (wanted) headers["Sec-WebSocket-Protocol"] = wanted.split(",")[0].trim();
    return new Response(null, { status: 101, webSocket: client, headers });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/worker-echo") {
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      server.addEventListener("message", (event) => server.send(`worker:${event.data}`));
      return new Response(null, { status: 101, webSocket: client });
    }
    const [, kind, name] = url.pathname.split("/");
    if (kind !== "echo" || !name) return new Response("not found", { status: 404 });
    return env.ECHO.getByName(name).fetch(request);
  },
};
