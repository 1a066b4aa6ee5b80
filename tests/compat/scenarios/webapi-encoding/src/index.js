// TextEncoder/TextDecoder and atob/btoa inside a Durable Object, storing bytes and reading them
// back.
import { DurableObject } from "cloudflare:workers";

export class Codec extends DurableObject {
  async run(text) {
    const bytes = new TextEncoder().encode(text);
    await this.ctx.storage.put("bytes", bytes);
    const stored = await this.ctx.storage.get("bytes");
    const decoded = new TextDecoder().decode(stored);
    const into = new Uint8Array(4);
    const progress = new TextEncoder().encodeInto("héllo", into);
    let fatal;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff, 0xfe]));
      fatal = "decoded";
    } catch (e) {
      fatal = e.name;
    }
    let badAtob;
    try {
      atob("***");
      badAtob = "decoded";
    } catch (e) {
      badAtob = e.name;
    }
    return {
      byteLength: bytes.byteLength,
      bytes: [...stored],
      decoded,
      roundTrip: decoded === text,
      encodeInto: { read: progress.read, written: progress.written, bytes: [...into] },
      replacement: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])),
      encoding: new TextDecoder().encoding,
      latin1: new TextDecoder("utf-16le").decode(new Uint8Array([0x68, 0, 0x69, 0])),
      fatal,
      btoa: btoa("hello, world"),
      atob: atob("aGVsbG8sIHdvcmxk"),
      btoaBinary: btoa(String.fromCharCode(0, 255, 128)),
      badAtob,
      base64OfUtf8: btoa(String.fromCharCode(...new TextEncoder().encode("ü"))),
    };
  }
}

export default {
  async fetch(request, env) {
    const text = await request.text();
    return Response.json(await env.CODEC.getByName("c").run(text));
  },
};
