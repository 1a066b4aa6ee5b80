// duro::SqlStorage: the SQL API of a SQLite-backed Durable Object (Cloudflare's
// `ctx.storage.sql`), for native C++ objects. JavaScript objects use the same implementation.
//
// Semantics (as Cloudflare documents them):
//  - exec() runs at once, synchronously, on the object's own database; several statements
//    separated by ';' run in order and the result holds the rows of the last one. Only the last
//    statement may have parameters (`?`, `?NNN`, `:name`, `@name`, `$name`), bound in order.
//  - Writes join the object's write buffer like KV writes: every write made without a suspension in
//    between commits atomically, and the object's outputs wait until it is durable.
//  - Transactions: Storage::transactionSync() (rolled back if the callback throws). SQL BEGIN,
//    COMMIT, ROLLBACK and SAVEPOINT statements are refused.
//  - Tables named _cf_* and _duro_* are reserved; ATTACH, extensions and writable-schema tricks
//    are refused.
// Limits (Cloudflare's): a string, BLOB or row at most 2 MB, a statement at most 100 KB, at most
// 100 bound parameters, 100 columns per table, 32 function arguments, LIKE/GLOB patterns of at most
// 50 bytes; the database at most the configured size (SQLITE_FULL beyond: reads and deletes still
// work). A violation throws duro::Error and changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace duro {

// A BLOB value (bytes); plain std::string is TEXT.
struct SqlBlob {
  std::string bytes;
  bool operator==(const SqlBlob&) const = default;
};

// A value bound to a parameter or read from a column: NULL, INTEGER, REAL, TEXT or BLOB.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string, SqlBlob>;

// What exec() returns: the rows of the last statement (all of them, read at once).
struct SqlResult {
  std::vector<std::string> columnNames;
  std::vector<std::vector<SqlValue>> rows;
  // Rows the statements read and wrote (Cloudflare's billing counters).
  uint64_t rowsRead = 0;
  uint64_t rowsWritten = 0;
};

class SqlStorage {
 public:
  virtual ~SqlStorage() = default;
  virtual SqlResult exec(std::string_view query, std::vector<SqlValue> bindings = {}) = 0;
  // The size of the object's database file in bytes (pages in use times the page size).
  virtual uint64_t databaseSize() = 0;
};

}  // namespace duro
