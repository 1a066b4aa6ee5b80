// What user SQL may not touch: tables with the reserved _cf_ prefix (the KV and alarm data),
// ATTACH/DETACH, most PRAGMAs, load_extension() and some functions. The schema tables and the
// schema-inspection PRAGMAs are readable.
import { DurableObject } from "cloudflare:workers";

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

export class Vault extends DurableObject {
  async alarm() {}

  async fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    const run = (queries) => Object.fromEntries(queries.map((q) => [q, attempt(() => sql.exec(q).raw().toArray())]));
    switch (url.pathname) {
      case "/setup":
        // The KV API and an alarm create the object's internal tables.
        this.ctx.storage.kv.put("secret", "hidden");
        await this.ctx.storage.setAlarm(Date.now() + 3600 * 1000);
        sql.exec("CREATE TABLE u(a INTEGER PRIMARY KEY, b TEXT)");
        sql.exec("CREATE INDEX ub ON u(b)");
        return Response.json({ ok: true });
      case "/reserved":
        return Response.json(run([
          "SELECT * FROM _cf_KV", "SELECT count(*) FROM _cf_KV", "SELECT * FROM main._cf_KV", "SELECT * FROM \"_cf_KV\"",
          "INSERT INTO _cf_KV VALUES ('k', 'v')", "UPDATE _cf_KV SET value = 1", "DELETE FROM _cf_KV", "DROP TABLE _cf_KV",
          "SELECT * FROM _cf_METADATA", "INSERT INTO _cf_METADATA VALUES (1, 2)",
          "CREATE TABLE _cf_mine(a)", "CREATE TABLE _CF_mine(a)", "CREATE TABLE \"_cf_quoted\"(a)", "CREATE INDEX _cf_idx ON u(b)",
          "CREATE VIEW _cf_view AS SELECT 1", "CREATE TRIGGER _cf_trg AFTER INSERT ON u BEGIN SELECT 1; END", "ALTER TABLE u RENAME TO _cf_u",
          "PRAGMA table_info(_cf_KV)",
          // Names that merely resemble the prefix are fine.
          "CREATE TABLE _cf(a)", "CREATE TABLE cf_x(a)", "CREATE TABLE u2(_cf_col)", "SELECT 1 AS _cf_alias",
          "WITH _cf_cte AS (SELECT 1 AS x) SELECT x FROM _cf_cte",
        ]));
      case "/schema":
        return Response.json({
          // Filtered so that the runtime's own _cf_ tables do not matter here.
          master: sql.exec("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name").raw().toArray(),
          schema: sql.exec("SELECT name FROM sqlite_schema WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name").raw().toArray(),
          sqlText: sql.exec("SELECT sql FROM sqlite_master WHERE name = 'u'").one().sql,
          temp: sql.exec("SELECT name FROM sqlite_temp_master").toArray(),
        });
      case "/escape":
        return Response.json(run([
          "ATTACH DATABASE 'other.db' AS other", "ATTACH ':memory:' AS mem", "DETACH DATABASE main",
          "PRAGMA writable_schema = 1", "PRAGMA writable_schema", "SELECT load_extension('x')", "SELECT load_extension('a', 'b')",
          "CREATE TEMP TABLE tt(a)", "VACUUM",
        ]));
      case "/pragmas":
        return Response.json(run([
          // allowed
          "PRAGMA table_info(u)", "PRAGMA main.table_info(u)", "SELECT name FROM pragma_table_info('u')", "PRAGMA table_xinfo(u)",
          "PRAGMA table_info(nope)", "PRAGMA index_list(u)", "PRAGMA index_info(ub)", "PRAGMA index_xinfo(ub)",
          "PRAGMA foreign_key_list(u)", "PRAGMA foreign_key_check", "PRAGMA quick_check", "PRAGMA page_size",
          "PRAGMA foreign_keys", "PRAGMA foreign_keys = ON", "PRAGMA defer_foreign_keys",
          "PRAGMA case_sensitive_like = 1", "PRAGMA recursive_triggers", "PRAGMA ignore_check_constraints",
          "PRAGMA legacy_alter_table", "PRAGMA reverse_unordered_selects",
          // refused
          "PRAGMA integrity_check", "PRAGMA journal_mode", "PRAGMA journal_mode = DELETE", "PRAGMA synchronous", "PRAGMA page_count",
          "PRAGMA user_version", "PRAGMA user_version = 5", "PRAGMA schema_version", "PRAGMA cache_size", "PRAGMA database_list",
          "PRAGMA compile_options", "PRAGMA function_list", "PRAGMA collation_list", "PRAGMA module_list", "PRAGMA pragma_list",
          "PRAGMA encoding", "PRAGMA auto_vacuum", "PRAGMA freelist_count", "PRAGMA application_id", "PRAGMA busy_timeout",
          "PRAGMA temp_store", "PRAGMA locking_mode", "PRAGMA mmap_size", "PRAGMA max_page_count", "PRAGMA trusted_schema",
          "PRAGMA cell_size_check", "PRAGMA query_only", "PRAGMA wal_checkpoint", "PRAGMA secure_delete", "PRAGMA automatic_index",
          "PRAGMA threads", "PRAGMA shrink_memory", "PRAGMA incremental_vacuum", "PRAGMA nonexistent_pragma",
        ]));
      case "/functions":
        return Response.json(run([
          "SELECT sqlite_version() IS NOT NULL", "SELECT sqlite_source_id() IS NOT NULL", "SELECT sqlite_compileoption_used('X')",
          "SELECT sqlite_log(1, 'x')", "SELECT unistr('a')", "SELECT readfile('/etc/passwd')", "SELECT sqlite_offset(a) FROM u",
          "SELECT typeof(randomblob(4))", "SELECT unixepoch() > 0", "SELECT json_valid('[1]')", "SELECT concat('a', 'b')",
          "SELECT iif(1, 'y', 'n')", "SELECT quote('x')", "SELECT printf('%05d', 42)",
        ]));
      case "/foreign-keys": {
        // Foreign keys are on by default.
        sql.exec("CREATE TABLE parent(id INTEGER PRIMARY KEY)");
        sql.exec("CREATE TABLE child(p INTEGER REFERENCES parent(id))");
        return Response.json({
          pragma: sql.exec("PRAGMA foreign_keys").raw().toArray(),
          orphan: attempt(() => sql.exec("INSERT INTO child VALUES (5)").toArray()),
        });
      }
      case "/still-there":
        return Response.json({ kv: this.ctx.storage.kv.get("secret"), alarmSet: (await this.ctx.storage.getAlarm()) !== null });
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    return env.VAULT.getByName("vault").fetch(request);
  },
};
