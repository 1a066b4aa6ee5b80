// WebSocket attachments: serializeAttachment(value) in fetch, deserializeAttachment() in the
// handlers. A structured-clone copy: later changes to the value are not kept unless serialized again.
import { DurableObject } from "cloudflare:workers";

function describe(attachment) {
  if (attachment === null || typeof attachment !== "object") return { value: attachment ?? null };
  return {
    name: attachment.name,
    joined: attachment.joined instanceof Date ? attachment.joined.toISOString() : "not a Date",
    roles: attachment.roles instanceof Set ? [...attachment.roles] : "not a Set",
    scores: attachment.scores instanceof Map ? Object.fromEntries(attachment.scores) : "not a Map",
    bytes: attachment.bytes instanceof Uint8Array ? [...attachment.bytes] : "not a Uint8Array",
    nested: attachment.nested,
  };
}

export class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    const name = url.searchParams.get("name");
    if (action === "ws") {
      const { 0: client, 1: server } = new WebSocketPair();
      const attachment = {
        name,
        joined: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        roles: new Set(["reader", "writer"]),
        scores: new Map([["a", 1], ["b", 2]]),
        bytes: new Uint8Array([1, 2, 255]),
        nested: { deep: [1, { x: "y" }] },
      };
      const when = url.searchParams.get("when");
      if (when === "before-accept") server.serializeAttachment(attachment);
      this.ctx.acceptWebSocket(server);
      if (when === "after-accept") server.serializeAttachment(attachment);
      // Changing the value afterwards does not change the stored copy.
      attachment.name = "changed after serializing";
      return new Response(null, { status: 101, webSocket: client });
    }
    if (action === "attachments") {
      const all = this.ctx.getWebSockets().map((ws) => describe(ws.deserializeAttachment()));
      all.sort((a, b) => String(a.name ?? a.value).localeCompare(String(b.name ?? b.value)));
      return Response.json(all);
    }
    return new Response("not found", { status: 404 });
  }

  webSocketMessage(ws, message) {
    if (message === "whoami") {
      ws.send(JSON.stringify(describe(ws.deserializeAttachment())));
    } else if (message.startsWith("rename:")) {
      const attachment = ws.deserializeAttachment();
      attachment.name = message.slice("rename:".length);
      ws.serializeAttachment(attachment);
      ws.send("renamed");
    } else if (message.startsWith("mutate:")) {
      // Changing a deserialized copy without serializing it again changes nothing.
      const attachment = ws.deserializeAttachment();
      attachment.name = message.slice("mutate:".length);
      const again = ws.deserializeAttachment();
      ws.send(JSON.stringify({ sameObject: attachment === again, storedName: again.name }));
    } else if (message.startsWith("set:")) {
      ws.serializeAttachment(JSON.parse(message.slice("set:".length)));
      ws.send("set");
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
