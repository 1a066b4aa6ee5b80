// SQL errors thrown by sql.exec(): constraint violations, unknown tables/columns/functions,
// syntax errors, wrong numbers of bindings. Each is an Error whose message ends with the SQLite
// result code; a failed statement changes nothing and the object keeps working.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

export class Users extends DurableObject {
  fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    const emails = () => sql.exec("SELECT email FROM users ORDER BY id").raw().toArray().map((r) => r[0]);
    switch (url.pathname) {
      case "/setup":
        sql.exec(`CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL,
          age INTEGER CHECK (age >= 0), manager INTEGER REFERENCES users(id))`);
        sql.exec("INSERT INTO users(email, age) VALUES (?, ?)", "a@example.com", 30);
        return Response.json(emails());
      case "/constraints":
        return Response.json({
          unique: attempt(() => sql.exec("INSERT INTO users(email, age) VALUES (?, ?)", "a@example.com", 1).toArray()),
          primaryKey: attempt(() => sql.exec("INSERT INTO users(id, email) VALUES (1, 'b@example.com')").toArray()),
          notNull: attempt(() => sql.exec("INSERT INTO users(email) VALUES (NULL)").toArray()),
          check: attempt(() => sql.exec("INSERT INTO users(email, age) VALUES ('c@example.com', -1)").toArray()),
          foreignKey: attempt(() => sql.exec("INSERT INTO users(email, manager) VALUES ('d@example.com', 99)").toArray()),
          uniqueOnUpdate: attempt(() => {
            sql.exec("INSERT INTO users(email) VALUES ('z@example.com')");
            return sql.exec("UPDATE users SET email = 'a@example.com' WHERE email = 'z@example.com'").toArray();
          }),
          // A multi-row INSERT is all or nothing.
          multiRow: attempt(() => sql.exec("INSERT INTO users(email) VALUES ('m1@example.com'), ('a@example.com')").toArray()),
          strict: attempt(() => {
            sql.exec("CREATE TABLE strict_t(n INTEGER) STRICT");
            return sql.exec("INSERT INTO strict_t VALUES ('abc')").toArray();
          }),
          raise: attempt(() => {
            sql.exec("CREATE TRIGGER no_delete BEFORE DELETE ON users BEGIN SELECT RAISE(ABORT, 'deletes are not allowed'); END");
            return sql.exec("DELETE FROM users").toArray();
          }),
          emails: emails(),
        });
      case "/statements":
        return Response.json({
          noTable: attempt(() => sql.exec("SELECT * FROM missing").toArray()),
          noTableInsert: attempt(() => sql.exec("INSERT INTO missing VALUES (1)").toArray()),
          noColumn: attempt(() => sql.exec("SELECT nope FROM users").toArray()),
          noFunction: attempt(() => sql.exec("SELECT nofunc(1)").toArray()),
          syntax: attempt(() => sql.exec("SELEC 1").toArray()),
          syntaxLater: attempt(() => sql.exec("SELECT * FROM users WHERE id = = 1").toArray()),
          incomplete: attempt(() => sql.exec("SELECT * FROM users WHERE").toArray()),
          tableExists: attempt(() => sql.exec("CREATE TABLE users(x)").toArray()),
          integerOverflow: attempt(() => sql.exec("SELECT abs(-9223372036854775808) AS x").toArray()),
          malformedJson: attempt(() => sql.exec("SELECT json('{bad') AS j").toArray()),
          divideByZero: attempt(() => sql.exec("SELECT 1 / 0 AS x").toArray()),
          notAString: attempt(() => sql.exec()),
        });
      case "/bindings":
        return Response.json({
          tooFew: attempt(() => sql.exec("SELECT ? AS a, ? AS b", 1).toArray()),
          tooMany: attempt(() => sql.exec("SELECT ? AS a", 1, 2).toArray()),
          noneGiven: attempt(() => sql.exec("SELECT ? AS a").toArray()),
          unexpected: attempt(() => sql.exec("SELECT 1 AS a", 1).toArray()),
          numbered: attempt(() => sql.exec("SELECT ?2 AS b, ?1 AS a", "one", "two").toArray()),
          numberedGap: attempt(() => sql.exec("SELECT ?3 AS c", 1, 2, 3).toArray()),
          numberedGapShort: attempt(() => sql.exec("SELECT ?3 AS c", 3).toArray()),
          repeated: attempt(() => sql.exec("SELECT ?1 AS a, ?1 AS b", "x").toArray()),
          named: attempt(() => sql.exec("SELECT :name AS a, $other AS b", "n", "o").toArray()),
        });
      case "/afterwards": {
        const inserted = sql.exec("INSERT INTO users(email, age) VALUES (?, ?) RETURNING id", "after@example.com", 5).one();
        return Response.json({ inserted, emails: emails(), strictRows: sql.exec("SELECT count(*) AS n FROM strict_t").one().n });
      }
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.USERS.getByName("users").fetch(request);
  },
};
