// idFromString with bad input, and with an ID that belongs to another namespace: the errors are
// caught and their name and message returned.
import { DurableObject } from "cloudflare:workers";

export class User extends DurableObject {}
export class Order extends DurableObject {}

function attempt(fn) {
  try {
    const v = fn();
    return { ok: v };
  } catch (e) {
    return { name: e.name, message: e.message, isTypeError: e instanceof TypeError };
  }
}

export default {
  async fetch(request, env) {
    const user = env.USERS.idFromName("u1").toString();
    const r = {
      x: attempt(() => env.USERS.idFromString("x")),
      empty: attempt(() => env.USERS.idFromString("")),
      short: attempt(() => env.USERS.idFromString(user.slice(0, 63))),
      long: attempt(() => env.USERS.idFromString(user + "0")),
      notHex: attempt(() => env.USERS.idFromString("g".repeat(64))),
      otherNamespace: attempt(() => env.ORDERS.idFromString(user)),
      forged: attempt(() => env.USERS.idFromString("0".repeat(64))),
      tamperedMac: attempt(() =>
        env.USERS.idFromString(user.slice(0, 63) + (user[63] === "0" ? "1" : "0")),
      ),
      // Hex digits are case-insensitive; the ID prints in lowercase.
      upperCase: attempt(() => env.USERS.idFromString(user.toUpperCase()).toString() === user),
      sameNamespace: attempt(() => env.USERS.idFromString(user).toString() === user),
    };
    return Response.json(r);
  },
};
