// Errors of the WebSocket API, caught in the object and reported as "Name: message" (or "ok").
import { DurableObject } from "cloudflare:workers";

function outcome(f) {
  try {
    f();
    return "ok";
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

const pair = () => new WebSocketPair()[1];
const accepted = () => {
  const ws = pair();
  ws.accept();
  return ws;
};

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "accepting") {
      return Response.json({
        sendBeforeAccept: outcome(() => pair().send("x")),
        closeBeforeAccept: outcome(() => pair().close(1000, "")),
        acceptTwice: outcome(() => {
          const ws = pair();
          ws.accept();
          ws.accept();
        }),
        acceptWebSocketTwice: outcome(() => {
          const ws = pair();
          this.ctx.acceptWebSocket(ws);
          this.ctx.acceptWebSocket(ws);
        }),
        acceptAfterAcceptWebSocket: outcome(() => {
          const ws = pair();
          this.ctx.acceptWebSocket(ws);
          ws.accept();
        }),
        acceptWebSocketAfterAccept: outcome(() => this.ctx.acceptWebSocket(accepted())),
        acceptWebSocketNotASocket: outcome(() => this.ctx.acceptWebSocket("ws")),
        acceptWebSocketNothing: outcome(() => this.ctx.acceptWebSocket()),
      });
    }
    if (action === "closing") {
      const codes = {};
      for (const code of [999, 1000, 1001, 1003, 1004, 1005, 1006, 1007, 1011, 1014, 1015, 1016,
                          2999, 3000, 4000, 4999, 5000, 65535]) {
        codes[code] = outcome(() => accepted().close(code, "r"));
      }
      return Response.json({
        codes,
        noArguments: outcome(() => accepted().close()),
        codeOnly: outcome(() => accepted().close(4000)),
        reasonWithoutCode: outcome(() => accepted().close(undefined, "why")),
        reason123Bytes: outcome(() => accepted().close(4000, "r".repeat(123))),
        reason124Bytes: outcome(() => accepted().close(4000, "r".repeat(124))),
        reason61TwoByteChars: outcome(() => accepted().close(4000, "é".repeat(61))),
        reason62TwoByteChars: outcome(() => accepted().close(4000, "é".repeat(62))),
        closeTwice: outcome(() => {
          const ws = accepted();
          ws.close(4000, "one");
          ws.close(4001, "two");
        }),
        sendAfterClose: outcome(() => {
          const ws = accepted();
          ws.close(4000, "");
          ws.send("x");
        }),
      });
    }
    if (action === "attachments") {
      return Response.json({
        notCloneable: outcome(() => pair().serializeAttachment(() => 1)),
        symbol: outcome(() => pair().serializeAttachment(Symbol("s"))),
        standardSocket: outcome(() => accepted().serializeAttachment({ ok: true })),
      });
    }
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    return new Response("not found", { status: 404 });
  }

  webSocketMessage(ws, message) {
    // A handler that throws: the socket stays open, later messages are still delivered, and the
    // object keeps its memory (the counter).
    this.handled = (this.handled ?? 0) + 1;
    if (message === "throw") throw new Error("handler failed");
    ws.send(`echo:${message} (message ${this.handled})`);
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
