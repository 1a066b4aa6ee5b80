// structuredClone: the types it keeps, cycles, and what it refuses.
export default {
  async fetch() {
    const date = new Date(Date.UTC(2024, 1, 29, 12, 0, 0));
    const shared = { s: 1 };
    const original = {
      map: new Map([["a", 1], [2, { b: [3] }]]),
      set: new Set(["x", 1]),
      date,
      bytes: new Uint8Array([1, 2, 3]),
      big: 2n ** 70n,
      nested: { arr: [1, [2, [3]]], undef: undefined, nul: null },
      re: /a+b/gi,
      twice: [shared, shared],
      err: new TypeError("cloned error"),
    };
    original.self = original;
    const c = structuredClone(original);
    let fn;
    try {
      structuredClone({ f() {} });
      fn = "cloned";
    } catch (e) {
      fn = e.name;
    }
    class Point {
      constructor() {
        this.x = 1;
      }
      norm() {
        return this.x;
      }
    }
    const p = structuredClone(new Point());
    return Response.json({
      notSame: c !== original && c.map !== original.map,
      map: [...c.map],
      mapIsMap: c.map instanceof Map,
      set: [...c.set],
      dateIso: c.date.toISOString(),
      dateIsDate: c.date instanceof Date,
      bytes: [...c.bytes],
      bytesCopied: c.bytes.buffer !== original.bytes.buffer,
      big: c.big.toString(),
      nested: c.nested,
      hasUndef: "undef" in c.nested,
      re: [c.re.source, c.re.flags],
      sharedKept: c.twice[0] === c.twice[1],
      cycleKept: c.self === c,
      err: [c.err.name, c.err.message, c.err instanceof TypeError],
      fn,
      classInstance: [p.x, p instanceof Point, typeof p.norm],
    });
  },
};
