// storage.transaction(): commit, explicit rollback, rollback by throwing (the error is rethrown),
// reads of the transaction's own writes, and what is refused inside one.
import { DurableObject } from "cloudflare:workers";

export class Bank extends DurableObject {
  async balances() {
    return Object.fromEntries(await this.ctx.storage.list());
  }

  async fetch(request) {
    const url = new URL(request.url);
    const s = this.ctx.storage;
    switch (url.pathname) {
      case "/open":
        await s.put({ alice: 100, bob: 50 });
        return Response.json(await this.balances());
      case "/transfer": {
        const amount = Number(url.searchParams.get("amount"));
        try {
          const result = await s.transaction(async (txn) => {
            const from = await txn.get("alice");
            const to = await txn.get("bob");
            await txn.put("alice", from - amount);
            await txn.put("bob", to + amount);
            // Reads inside the transaction see its own writes.
            const seen = await txn.get(["alice", "bob"]);
            if (from - amount < 0) throw new RangeError(`insufficient funds: ${from} < ${amount}`);
            return { committed: true, seenInside: Object.fromEntries(seen) };
          });
          return Response.json({ result, balances: await this.balances() });
        } catch (e) {
          return Response.json({ error: { name: e.name, message: e.message, isRangeError: e instanceof RangeError }, balances: await this.balances() });
        }
      }
      case "/rollback": {
        const result = await s.transaction(async (txn) => {
          await txn.put("alice", 0);
          await txn.delete("bob");
          await txn.put("carol", 1);
          txn.rollback();
          return "rolled back on purpose";
        });
        return Response.json({ result, balances: await this.balances() });
      }
      case "/rollback-then-write": {
        const result = await s.transaction(async (txn) => {
          txn.rollback();
          try {
            await txn.put("alice", 0);
            return "write accepted";
          } catch (e) {
            return `${e.name}: ${e.message}`;
          }
        });
        return Response.json({ result, balances: await this.balances() });
      }
      case "/delete-all-inside": {
        const result = await s.transaction(async (txn) => {
          try {
            await txn.deleteAll();
            return "deleteAll accepted";
          } catch (e) {
            return `${e.name}: ${e.message}`;
          }
        });
        return Response.json({ result, balances: await this.balances() });
      }
      case "/list-inside": {
        const result = await s.transaction(async (txn) => {
          await txn.put("zed", 9);
          await txn.delete("bob");
          const listed = [...(await txn.list())];
          txn.rollback();
          return listed;
        });
        return Response.json({ result, balances: await this.balances() });
      }
      case "/non-error-throw": {
        try {
          await s.transaction(async (txn) => {
            await txn.put("alice", -1);
            throw "a string, not an Error";
          });
          return new Response("not thrown");
        } catch (e) {
          return Response.json({ thrown: e, balances: await this.balances() });
        }
      }
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.BANK.getByName("bank").fetch(request);
  },
};
