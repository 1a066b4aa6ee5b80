// SqlWriteCounter: the rowsWritten of a user SQL statement, counted the way workerd's patched
// SQLite counts it: a row inserted counts once plus once per index entry it adds (every index of
// its table), a row updated once plus once per index holding a column the statement sets, a row
// deleted once. Stock SQLite reports only rows changed, so the rows come from the pre-update hook
// and the indexes from the schema. Not counted (workerd counts them): writes to the schema itself
// (CREATE TABLE), and a partial index's entry is counted even where its WHERE excludes the row.
// Threading: the connection's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

struct sqlite3;

namespace duro::storage {

class SqlWriteCounter {
 public:
  void attach(sqlite3* db);
  // While a statement is prepared: a column its SET list assigns (from the authorizer).
  void setColumn(const char* table, const char* column);
  // The schema changed (or may have): index lists are read again.
  void schemaChanged() { indexes_.clear(); }
  // Around the run of one user statement.
  void beginStatement();
  // Stops counting; the statement's rows written (at least `changed`, SQLite's own count, which
  // also covers the truncation of a whole table that the hook does not see).
  uint64_t endStatement(uint64_t changed);
  void clearSetColumns() { setColumns_.clear(); }

 private:
  struct Index {
    bool expression = false;           // on an expression: counted as holding every column
    std::vector<std::string> columns;  // lower case
  };
  static void onPreUpdate(void* self, sqlite3* db, int op, const char* dbName, const char* table,
                          int64_t oldRowid, int64_t newRowid);
  const std::vector<Index>& indexesOf(const std::string& table);

  sqlite3* db_ = nullptr;
  bool counting_ = false;
  std::map<std::string, uint64_t> inserts_;  // by table (lower case)
  std::map<std::string, uint64_t> updates_;
  uint64_t deletes_ = 0;
  std::map<std::string, std::set<std::string>> setColumns_;
  std::map<std::string, std::vector<Index>> indexes_;
};

}  // namespace duro::storage
