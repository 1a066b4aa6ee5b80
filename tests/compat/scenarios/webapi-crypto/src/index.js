// crypto in a Durable Object: randomUUID (format only), getRandomValues (shape only),
// subtle.digest of fixed inputs (exact hex), HMAC sign/verify with a fixed key.
import { DurableObject } from "cloudflare:workers";

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export class Vault extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/uuid") {
      // Stored so that a second request can check it is kept and a fresh one differs.
      const id = crypto.randomUUID();
      const previous = await this.ctx.storage.get("uuid");
      await this.ctx.storage.put("uuid", id);
      return Response.json({ id, differsFromPrevious: previous === undefined ? "first" : previous !== id });
    }
    if (url.pathname === "/random") {
      const a = crypto.getRandomValues(new Uint8Array(32));
      const b = crypto.getRandomValues(new Uint32Array(4));
      const same = new Uint8Array(8);
      const returned = crypto.getRandomValues(same);
      let tooBig;
      try {
        crypto.getRandomValues(new Uint8Array(65537));
        tooBig = "accepted";
      } catch (e) {
        tooBig = e.name;
      }
      let floats;
      try {
        crypto.getRandomValues(new Float64Array(2));
        floats = "accepted";
      } catch (e) {
        floats = e.name;
      }
      return Response.json({
        length: a.length,
        type: a.constructor.name,
        u32: b.length,
        returnsSameArray: returned === same,
        // 32 random bytes all equal would be a broken generator.
        notConstant: new Set(a).size > 1,
        tooBig,
        floats,
      });
    }
    if (url.pathname === "/digest") {
      const data = new TextEncoder().encode(url.searchParams.get("s") ?? "");
      return Response.json({
        sha256: hex(await crypto.subtle.digest("SHA-256", data)),
        sha1: hex(await crypto.subtle.digest("SHA-1", data)),
        sha512prefix: hex(await crypto.subtle.digest({ name: "SHA-512" }, data)).slice(0, 32),
      });
    }
    if (url.pathname === "/hmac") {
      const key = await crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode("key"),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      );
      const msg = new TextEncoder().encode("The quick brown fox jumps over the lazy dog");
      const sig = await crypto.subtle.sign("HMAC", key, msg);
      const ok = await crypto.subtle.verify("HMAC", key, sig, msg);
      const bad = await crypto.subtle.verify("HMAC", key, sig, new TextEncoder().encode("tampered"));
      return Response.json({ sig: hex(sig), ok, bad });
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.VAULT.getByName("v").fetch(request);
  },
};
