// Values are stored with the structured clone algorithm: written in one request, read back and
// described in a later one.
import { DurableObject } from "cloudflare:workers";

function describe(v) {
  if (v === undefined) return { type: "undefined" };
  if (v === null) return { type: "null" };
  if (v instanceof Map) return { type: "Map", entries: [...v].map(([k, x]) => [describe(k), describe(x)]) };
  if (v instanceof Set) return { type: "Set", values: [...v].map(describe) };
  if (v instanceof Date) return { type: "Date", iso: v.toISOString() };
  if (v instanceof Uint8Array) return { type: "Uint8Array", bytes: [...v] };
  if (v instanceof Int32Array) return { type: "Int32Array", values: [...v] };
  if (v instanceof ArrayBuffer) return { type: "ArrayBuffer", bytes: [...new Uint8Array(v)] };
  if (v instanceof RegExp) return { type: "RegExp", source: v.source, flags: v.flags };
  if (v instanceof Error) return { type: "Error", name: v.name, message: v.message };
  if (Array.isArray(v)) return { type: "Array", length: v.length, holes: v.length - Object.keys(v).length, items: [...v].map(describe) };
  if (typeof v === "bigint") return { type: "bigint", value: v.toString() };
  if (typeof v === "number") {
    return { type: "number", value: Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : Number.isFinite(v) ? v : String(v) };
  }
  if (typeof v === "object") {
    return { type: "object", proto: Object.getPrototypeOf(v) === Object.prototype, fields: Object.entries(v).map(([k, x]) => [k, describe(x)]) };
  }
  return { type: typeof v, value: v };
}

class Point {
  constructor(x) {
    this.x = x;
  }
}

const VALUES = () => ({
  string: "text ✓",
  number: 1.5,
  negZero: -0,
  nan: NaN,
  infinity: -Infinity,
  boolean: true,
  nullValue: null,
  bigint: 123456789012345678901234567890n,
  map: new Map([["k", 1], [2, new Date(0)]]),
  set: new Set(["a", 1, "a"]),
  date: new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6)),
  nested: { a: { b: { c: [1, { d: "deep" }] } }, u: undefined, n: null },
  array: [1, "two", [3], { four: 4 }],
  sparse: [1, , 3],
  bytes: new Uint8Array([0, 1, 127, 128, 255]),
  int32: new Int32Array([-1, 2147483647]),
  buffer: new Uint8Array([9, 8, 7]).buffer,
  regexp: /^x+$/im,
  error: new RangeError("stored error"),
  classInstance: new Point(7),
});

export class Store extends DurableObject {
  async write() {
    const values = VALUES();
    await this.ctx.storage.put(values);
    return Object.keys(values).length;
  }
  async read(key) {
    return describe(await this.ctx.storage.get(key));
  }
  async readAll() {
    const map = await this.ctx.storage.get(Object.keys(VALUES()));
    return Object.fromEntries([...map].map(([k, v]) => [k, describe(v)]));
  }
  async undefinedCases() {
    const s = this.ctx.storage;
    let putUndefined;
    try {
      await s.put("u", undefined);
      putUndefined = "stored";
    } catch (e) {
      putUndefined = `${e.name}: ${e.message}`;
    }
    let putFunction;
    try {
      await s.put("f", () => 1);
      putFunction = "stored";
    } catch (e) {
      putFunction = e.name;
    }
    return {
      putUndefined,
      putFunction,
      missing: describe(await s.get("never-written")),
      afterFailedPut: describe(await s.get("u")),
      inMap: [...(await s.get(["u", "f", "never-written"])).keys()],
    };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const store = env.STORE.getByName("types");
    if (url.pathname === "/write") return Response.json(await store.write());
    if (url.pathname === "/read") return Response.json(await store.read(url.searchParams.get("key")));
    if (url.pathname === "/read-all") return Response.json(await store.readAll());
    if (url.pathname === "/undefined") return Response.json(await store.undefinedCases());
    return new Response("not found", { status: 404 });
  },
};
