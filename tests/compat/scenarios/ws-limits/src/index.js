// The Hibernation API's limits, each just below and just above: tags per socket and tag length,
// attachment size, auto-response request and response size, the event timeout.
import { DurableObject } from "cloudflare:workers";

function outcome(f) {
  try {
    const value = f();
    return value === undefined ? "ok" : value;
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

const pair = () => new WebSocketPair()[1];
const tags = (n) => Array.from({ length: n }, (_, i) => `t${i}`);

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "tags") {
      const accept = (t) => outcome(() => this.ctx.acceptWebSocket(pair(), t));
      return Response.json({
        tags10: accept(tags(10)),
        tags11: accept(tags(11)),
        length256: accept(["x".repeat(256)]),
        length257: accept(["x".repeat(257)]),
        // The limit counts UTF-8 bytes: 128 two-byte characters fit, 129 do not.
        twoByte128: accept(["é".repeat(128)]),
        twoByte129: accept(["é".repeat(129)]),
        accepted: this.ctx.getWebSockets().length,
      });
    }
    if (action === "attachment") {
      // A string of n one-byte characters serializes to n + 5 bytes (n < 16384).
      const attach = (value) => outcome(() => pair().serializeAttachment(value));
      return Response.json({
        string16379: attach("a".repeat(16379)),
        string16380: attach("a".repeat(16380)),
        string17000: attach("a".repeat(17000)),
        bytes2048: attach(new Uint8Array(2048)),
      });
    }
    if (action === "auto-response") {
      const set = (req, res) => outcome(() => this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(req, res)));
      return Response.json({
        request2048: set("p".repeat(2048), "pong"),
        request2049: set("p".repeat(2049), "pong"),
        response2049: set("ping", "q".repeat(2049)),
        twoByte1024: set("é".repeat(1024), "pong"),
        twoByte1025: set("é".repeat(1025), "pong"),
        // The pair itself may be longer; the limit is checked when it is set.
        longPair: outcome(() => new WebSocketRequestResponsePair("p".repeat(3000), "x").request.length),
        noArguments: outcome(() => new WebSocketRequestResponsePair()),
        notAPair: outcome(() => this.ctx.setWebSocketAutoResponse({ request: "ping", response: "pong" })),
        stillSet: this.ctx.getWebSocketAutoResponse()?.request.length ?? null,
      });
    }
    if (action === "event-timeout") {
      const get = () => this.ctx.getHibernatableWebSocketEventTimeout();
      const results = { initially: get() };
      results.set5000 = outcome(() => this.ctx.setHibernatableWebSocketEventTimeout(5000));
      results.after5000 = get();
      results.setSevenDays = outcome(() => this.ctx.setHibernatableWebSocketEventTimeout(604800000));
      results.afterSevenDays = get();
      results.setMore = outcome(() => this.ctx.setHibernatableWebSocketEventTimeout(604800001));
      results.afterMore = get();
      results.setNegative = outcome(() => this.ctx.setHibernatableWebSocketEventTimeout(-1));
      results.set0 = outcome(() => this.ctx.setHibernatableWebSocketEventTimeout(0));
      results.after0 = get();
      this.ctx.setHibernatableWebSocketEventTimeout(1000);
      results.setNothing = outcome(() => this.ctx.setHibernatableWebSocketEventTimeout());
      results.afterNothing = get();
      return Response.json(results);
    }
    return new Response("not found", { status: 404 });
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
