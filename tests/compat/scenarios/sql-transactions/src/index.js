// Transactions on a SQLite-backed object: transactionSync() commits and returns the callback's
// value, rolls back SQL and ctx.storage.kv writes when the callback throws (rethrowing the same
// value), nests; transaction() rolls back SQL writes too; BEGIN/COMMIT/SAVEPOINT in SQL refused.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

export class Ledger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS entries(n TEXT)");
  }

  state() {
    return {
      rows: this.ctx.storage.sql.exec("SELECT n FROM entries ORDER BY rowid").raw().toArray().map((r) => r[0]),
      kv: [...this.ctx.storage.kv.list()],
    };
  }

  async fetch(request) {
    const url = new URL(request.url);
    const st = this.ctx.storage;
    const sql = st.sql;
    const kv = st.kv;
    const insert = (n) => sql.exec("INSERT INTO entries VALUES (?)", n);
    switch (url.pathname) {
      case "/sync-commit": {
        const result = attempt(() => st.transactionSync(() => {
          insert("t1");
          kv.put("k1", 1);
          return { value: 42 };
        }));
        return Response.json({ result, state: this.state() });
      }
      case "/sync-throw": {
        let caught;
        const thrown = new RangeError("boom");
        try {
          st.transactionSync(() => {
            insert("t2");
            kv.put("k2", 2);
            kv.delete("k1");
            sql.exec("UPDATE entries SET n = 'changed'");
            throw thrown;
          });
        } catch (e) {
          caught = { same: e === thrown, name: e.name, message: e.message };
        }
        let nonError;
        try {
          st.transactionSync(() => { insert("t3"); throw "a string"; });
        } catch (e) {
          nonError = e;
        }
        return Response.json({ caught, nonError, state: this.state() });
      }
      case "/nested": {
        const result = attempt(() => st.transactionSync(() => {
          insert("outer");
          let inner;
          try {
            st.transactionSync(() => {
              insert("inner-rolled-back");
              kv.put("inner", 1);
              throw new Error("inner fail");
            });
          } catch (e) {
            inner = e.message;
          }
          const kept = st.transactionSync(() => { insert("inner-kept"); return "kept"; });
          return { inner, kept };
        }));
        const outerThrow = attempt(() => st.transactionSync(() => {
          st.transactionSync(() => { insert("committed-inner-of-failed-outer"); kv.put("lost", 1); });
          throw new Error("outer fail");
        }));
        return Response.json({ result, outerThrow, state: this.state() });
      }
      case "/sync-errors":
        return Response.json({
          noFunction: attempt(() => st.transactionSync()),
          notAFunction: attempt(() => st.transactionSync(42)),
          argumentsGiven: attempt(() => st.transactionSync((...args) => args.length)),
        });
      case "/async": {
        const run = async (fn) => {
          try {
            return { ok: await st.transaction(fn) };
          } catch (e) {
            return { error: { name: e.name, message: e.message } };
          }
        };
        const committed = await run(async (txn) => {
          insert("a1");
          await txn.put("ak1", "v1");
          kv.put("ak2", "v2");
          return "done";
        });
        const thrown = await run(async (txn) => {
          insert("a2");
          await txn.put("ak3", "v3");
          kv.put("ak4", "v4");
          throw new TypeError("nope");
        });
        const rolledBack = await run(async (txn) => {
          insert("a3");
          await txn.put("ak5", "v5");
          txn.rollback();
          return "rolled back";
        });
        const syncInside = await run(async () => st.transactionSync(() => { insert("a4"); return "inner"; }));
        return Response.json({ committed, thrown, rolledBack, syncInside, state: this.state() });
      }
      case "/sql-control": {
        const statements = ["BEGIN", "BEGIN TRANSACTION", "begin immediate", "BEGIN EXCLUSIVE", "COMMIT", "END", "ROLLBACK",
          "SAVEPOINT x", "RELEASE x", "ROLLBACK TO x", "  Begin;", "INSERT INTO entries VALUES ('s'); BEGIN"];
        // Every one is refused with the message BEGIN gets (written out once).
        const begin = attempt(() => sql.exec("BEGIN").toArray());
        const same = (r) => (r.error && r.error.name === begin.error.name && r.error.message === begin.error.message) ? "same error as BEGIN" : r;
        const out = statements.map((q) => [q, same(attempt(() => sql.exec(q).toArray()))]);
        const inside = same(attempt(() => st.transactionSync(() => sql.exec("SAVEPOINT y").toArray())));
        return Response.json({ begin, out, inside, state: this.state() });
      }
      case "/state":
        return Response.json(this.state());
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.LEDGER.getByName("ledger").fetch(request);
  },
};
