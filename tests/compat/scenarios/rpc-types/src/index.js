// JS RPC on a class that extends DurableObject: arguments and results of many types cross the
// stub with their types intact; sync and async methods; several arguments.
import { DurableObject } from "cloudflare:workers";

export class Calculator extends DurableObject {
  add(a, b) {
    return a + b;
  }
  async concat(...parts) {
    return parts.join("");
  }
  object() {
    return { name: "calc", nested: { list: [1, 2, 3], flag: true, nothing: null } };
  }
  array() {
    return [1, "two", { three: 3 }, [4]];
  }
  map() {
    return new Map([["a", 1], ["b", { c: 2 }]]);
  }
  set() {
    return new Set([3, 1, 2]);
  }
  date() {
    return new Date(Date.UTC(2030, 5, 15, 10, 30));
  }
  nothing() {}
  nullValue() {
    return null;
  }
  bigint() {
    return 2n ** 64n + 1n;
  }
  bytes() {
    return new Uint8Array([5, 4, 3]);
  }
  echo(value) {
    // Describes what arrived.
    return {
      type: Object.prototype.toString.call(value),
      json: value instanceof Map ? [...value] : value instanceof Set ? [...value] : value,
    };
  }
  countArgs(...args) {
    return args.length;
  }
}

const kind = (v) => Object.prototype.toString.call(v);

export default {
  async fetch(request, env) {
    const calc = env.CALC.getByName("calc");
    const map = await calc.map();
    const set = await calc.set();
    const date = await calc.date();
    const nothing = await calc.nothing();
    const big = await calc.bigint();
    const bytes = await calc.bytes();
    return Response.json({
      number: await calc.add(2, 3),
      float: await calc.add(0.1, 0.2),
      string: await calc.concat("a", "b", "c"),
      object: await calc.object(),
      array: await calc.array(),
      map: [kind(map), [...map]],
      set: [kind(set), [...set]],
      date: [kind(date), date.toISOString()],
      undefined: [nothing === undefined, typeof nothing],
      null: await calc.nullValue(),
      bigint: [typeof big, big.toString()],
      bytes: [kind(bytes), [...bytes]],
      echoMap: await calc.echo(new Map([[1, "one"]])),
      echoSet: await calc.echo(new Set(["x"])),
      echoDate: (await calc.echo(new Date(0))).type,
      echoUndefined: await calc.echo(undefined),
      echoNested: await calc.echo({ a: [{ b: new Date(0).getTime() }] }),
      countArgs: [await calc.countArgs(), await calc.countArgs(1, undefined, 3)],
      promiseLike: typeof calc.add(1, 1).then,
    });
  },
};
