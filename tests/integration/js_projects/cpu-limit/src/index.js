// Objects whose fetch can spin forever (at once, or after an await), and a Worker that can spin
// itself. Each object also keeps an in-memory hit count and a stored counter.
import { DurableObject } from "cloudflare:workers";

export class Spinner extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.hits = 0;
  }

  async fetch(request) {
    const op = new URL(request.url).pathname.split("/")[3];
    switch (op) {
      case "loop":
        while (true) {}
      case "await-loop":
        await this.ctx.storage.get("x");
        while (true) {}
      case "count": {
        this.hits++;
        const stored = ((await this.ctx.storage.get("stored")) ?? 0) + 1;
        await this.ctx.storage.put("stored", stored);
        return new Response(`hits ${this.hits} stored ${stored}`);
      }
    }
    return new Response(`unknown op ${op}`, { status: 404 });
  }
}

// A SQLite-backed object whose query never ends (a recursive CTE), and a counter beside it.
export class SqlSpinner extends DurableObject {
  fetch(request) {
    const op = new URL(request.url).pathname.split("/")[3];
    const sql = this.ctx.storage.sql;
    switch (op) {
      case "sql-loop":
        sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
        return new Response("finished?");
      case "count":
        sql.exec("CREATE TABLE IF NOT EXISTS n(v)");
        sql.exec("INSERT INTO n VALUES (1)");
        return new Response(`rows ${sql.exec("SELECT count(*) AS c FROM n").one().c}`);
    }
    return new Response(`unknown op ${op}`, { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    const parts = new URL(request.url).pathname.split("/");
    switch (parts[1]) {
      case "ping":
        return new Response("pong");
      case "worker-loop":
        while (true) {}
      case "s":
        // /s/<name>/<op>: a SQLite-backed object.
        try {
          return await env.SQL_SPINNER.getByName(parts[2]).fetch(request);
        } catch (e) {
          return new Response(`caught ${e.name}: ${e.message}`, { status: 500 });
        }
      case "o":
        // /o/<name>/<op>: the object's failure comes back as an exception.
        try {
          return await env.SPINNER.getByName(parts[2]).fetch(request);
        } catch (e) {
          return new Response(`caught ${e.name}: ${e.message}`, { status: 500 });
        }
    }
    return new Response("not found", { status: 404 });
  },
};
