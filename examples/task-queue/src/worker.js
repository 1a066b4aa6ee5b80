// The task-queue example (wrangler.toml says what it serves). Each queue is one SQLite-backed
// Durable Object: its tasks are rows, and a claim is a transactionSync(), so two workers can
// never get the same task and a claimed task is never lost.
import { DurableObject } from "cloudflare:workers";

export class TaskQueue extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS tasks(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed', 'done')),
        worker TEXT
      );
      CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks(state, id)`);
  }

  add(body) {
    return this.ctx.storage.sql.exec("INSERT INTO tasks(body) VALUES (?) RETURNING id", body).one().id;
  }

  claim(worker) {
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync(() => {
      const next = sql.exec("SELECT id, body FROM tasks WHERE state = 'queued' ORDER BY id LIMIT 1").toArray()[0];
      if (!next) return null;
      sql.exec("UPDATE tasks SET state = 'claimed', worker = ? WHERE id = ?", worker, next.id);
      return next;
    });
  }

  done(id, worker) {
    // RETURNING says which rows changed (rowsWritten also counts index entries).
    const changed = this.ctx.storage.sql.exec(
      "UPDATE tasks SET state = 'done' WHERE id = ? AND state = 'claimed' AND worker = ? RETURNING id",
      id, worker).toArray();
    return changed.length === 1;
  }

  stats() {
    const counts = { queued: 0, claimed: 0, done: 0 };
    for (const { state, n } of this.ctx.storage.sql.exec("SELECT state, count(*) AS n FROM tasks GROUP BY state")) {
      counts[state] = n;
    }
    return counts;
  }

  async fetch(request) {
    const url = new URL(request.url);
    const [, , , action, arg] = url.pathname.split("/");
    const worker = url.searchParams.get("worker") ?? "anonymous";
    if (request.method === "POST" && action === "tasks") {
      return Response.json({ id: this.add(await request.text()) }, { status: 201 });
    }
    if (request.method === "POST" && action === "claim") {
      const task = this.claim(worker);
      return task ? Response.json(task) : new Response(null, { status: 204 });
    }
    if (request.method === "POST" && action === "done") {
      return this.done(Number(arg), worker)
        ? Response.json({ done: Number(arg) })
        : Response.json({ error: "not claimed by this worker" }, { status: 409 });
    }
    if (request.method === "GET" && action === "stats") return Response.json(this.stats());
    return new Response("not found\n", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    // /q/<queue>/...
    const queue = new URL(request.url).pathname.split("/")[2];
    if (!queue) return new Response("usage: /q/<queue>/tasks | claim | done/<id> | stats\n", { status: 404 });
    return env.QUEUE.getByName(queue).fetch(request);
  },
};
