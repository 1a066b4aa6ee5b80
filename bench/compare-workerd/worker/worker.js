// The benchmark Worker (bench/compare-workerd): plain Cloudflare Workers code, served unchanged by
// duro and by workerd. Routes (GET):
//   /stateless      "ok" from the Worker, no Durable Object
//   /hot            counter on COUNTER idFromName("hot"): storage get + put, returns the new value
//   /spread/<name>  the same counter on COUNTER idFromName(<name>) (any non-empty name)
//   /seed           the counter on COUNTER idFromName("read") (run once before the read row)
//   /read           COUNTER idFromName("read"): storage get only, returns the stored value
//   /limit/<name>   token bucket on LIMITER idFromName(<name>): 200 (tokens left) or 429
// WebSocket routes (the upgrade goes to a WS_ROOM object, accepted with the Hibernation API;
// a request without `Upgrade: websocket` gets 426):
//   /ws/echo/<room>  the object echoes every message back to its sender
//   /ws/room/<room>  the object broadcasts every message to every socket of the room (the
//                    sender included)
//   /ws/hold/<room>  the object answers every message with an ID drawn when it was constructed
//                    (bench/ws_driver --mode hold: a new ID after the wait shows that the object
//                    was evicted and constructed again, i.e. that it hibernated)
// The three kinds are different objects (idFromName("echo:" + room) and so on).
// anything else    404
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async fetch(request) {
    if (new URL(request.url).pathname === "/read") {
      const n = await this.ctx.storage.get("n");
      return new Response(String(n ?? 0));
    }
    let n = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", n + 1);
    return new Response(String(n + 1));
  }
}

// Token bucket: CAPACITY tokens, refilled at REFILL_PER_SECOND; a request takes one token or is
// refused with 429. The state is written back on every request, allowed or refused, so both
// outcomes cost the same (one get + one put). The bench's limiter row sends 90% of its requests
// round-robin over 1,000 keys (far below the refill rate each) and 10% to one hot key (above it),
// so most requests pass and the hot key's excess gets 429, at any throughput from ~1,000 to
// ~100,000 requests/s.
const CAPACITY = 100;
const REFILL_PER_SECOND = 100;

export class Limiter extends DurableObject {
  async fetch(request) {
    const now = Date.now();
    const state = (await this.ctx.storage.get("bucket")) ?? { tokens: CAPACITY, last: now };
    let tokens = Math.min(CAPACITY, state.tokens + ((now - state.last) * REFILL_PER_SECOND) / 1000);
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    await this.ctx.storage.put("bucket", { tokens, last: now });
    if (!allowed) return new Response("rate limited", { status: 429 });
    return new Response(String(Math.floor(tokens)));
  }
}

// One Durable Object per room and kind. Each socket is accepted with its kind as its tag; after
// hibernation a new instance learns its kind from the first socket it hears from (every socket
// of an object has the same kind).
export class WsRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.kind = undefined;
    this.instance = crypto.randomUUID();
  }

  async fetch(request) {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const kind = new URL(request.url).pathname.split("/")[2];
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [kind]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage(ws, message) {
    const kind = (this.kind ??= this.ctx.getTags(ws)[0]);
    if (kind === "echo") {
      ws.send(message);
    } else if (kind === "room") {
      for (const socket of this.ctx.getWebSockets()) {
        try {
          socket.send(message);
        } catch {
          // a socket that is closing; the others still get the message
        }
      }
    } else {
      ws.send(this.instance);
    }
  }

  webSocketClose(ws, code, reason, wasClean) {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }
}

const WS_KINDS = new Set(["echo", "room", "hold"]);

function objectFetch(ns, name, request) {
  return ns.get(ns.idFromName(name)).fetch(request);
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/stateless") return new Response("ok");
    if (path === "/hot") return objectFetch(env.COUNTER, "hot", request);
    if (path === "/read" || path === "/seed") return objectFetch(env.COUNTER, "read", request);
    if (path.startsWith("/spread/") && path.length > 8) {
      return objectFetch(env.COUNTER, path.slice(8), request);
    }
    if (path.startsWith("/limit/") && path.length > 7) {
      return objectFetch(env.LIMITER, path.slice(7), request);
    }
    if (path.startsWith("/ws/")) {
      const [, , kind, room] = path.split("/");
      if (WS_KINDS.has(kind) && room) {
        if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
          return new Response("expected a WebSocket upgrade", { status: 426 });
        }
        return objectFetch(env.WS_ROOM, `${kind}:${room}`, request);
      }
    }
    return new Response("not found", { status: 404 });
  },
};
