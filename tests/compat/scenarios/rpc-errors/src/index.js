// Errors thrown by RPC methods arrive in the caller as errors with the same name and message,
// marked remote; the object is not reset by them.
import { DurableObject } from "cloudflare:workers";

class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = "ValidationError";
  }
}

export class Risky extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.calls = 0;
  }
  plain() {
    this.calls++;
    throw new Error("plain failure");
  }
  typeError() {
    this.calls++;
    null.property;
  }
  rangeError() {
    this.calls++;
    throw new RangeError("out of range: 42");
  }
  async asyncThrow() {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw new TypeError("thrown after an await");
  }
  custom() {
    this.calls++;
    throw new ValidationError("field 'email' is required");
  }
  async storageThenThrow() {
    this.calls++;
    await this.ctx.storage.put("written", "before the throw");
    throw new Error("after writing");
  }
  async state() {
    return { calls: this.calls, written: (await this.ctx.storage.get("written")) ?? null };
  }
}

async function capture(promise) {
  try {
    return { resolved: await promise };
  } catch (e) {
    return {
      name: e.name,
      message: e.message,
      remote: e.remote,
      isError: e instanceof Error,
      isTypeError: e instanceof TypeError,
      isRangeError: e instanceof RangeError,
    };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const risky = env.RISKY.getByName("r");
    if (url.pathname === "/state") return Response.json(await risky.state());
    const method = url.pathname.slice(1);
    return Response.json(await capture(risky[method]()));
  },
};
