// Implementation of SqlWriteCounter (sql_write_counter.h).
#define SQLITE_ENABLE_PREUPDATE_HOOK 1  // declares sqlite3_preupdate_hook (Debian builds it in)
#include "storage/sql_write_counter.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>

namespace duro::storage {

namespace {
std::string lower(const char* text) {
  std::string out(text ? text : "");
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

void SqlWriteCounter::attach(sqlite3* db) {
  db_ = db;
  sqlite3_preupdate_hook(
      db,
      [](void* self, sqlite3* hookDb, int op, const char* dbName, const char* table,
         sqlite3_int64 oldRowid, sqlite3_int64 newRowid) {
        onPreUpdate(self, hookDb, op, dbName, table, oldRowid, newRowid);
      },
      this);
}

void SqlWriteCounter::onPreUpdate(void* selfPtr, sqlite3*, int op, const char*, const char* table,
                                  int64_t, int64_t) {
  auto* self = static_cast<SqlWriteCounter*>(selfPtr);
  if (!self->counting_) return;
  switch (op) {
    case SQLITE_INSERT: ++self->inserts_[lower(table)]; break;
    case SQLITE_UPDATE: ++self->updates_[lower(table)]; break;
    case SQLITE_DELETE: ++self->deletes_; break;
    default: break;
  }
}

void SqlWriteCounter::setColumn(const char* table, const char* column) {
  if (table != nullptr && column != nullptr) setColumns_[lower(table)].insert(lower(column));
}

void SqlWriteCounter::beginStatement() {
  inserts_.clear();
  updates_.clear();
  deletes_ = 0;
  counting_ = true;
}

const std::vector<SqlWriteCounter::Index>& SqlWriteCounter::indexesOf(const std::string& table) {
  auto it = indexes_.find(table);
  if (it != indexes_.end()) return it->second;
  std::map<std::string, Index> byName;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT il.name, ii.cid, ii.name FROM pragma_index_list(?1) AS il "
                         "JOIN pragma_index_info(il.name) AS ii",
                         -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      Index& index = byName[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))];
      if (sqlite3_column_int(stmt, 1) == -2) {
        index.expression = true;
      } else {
        index.columns.push_back(lower(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2))));
      }
    }
  }
  sqlite3_finalize(stmt);
  std::vector<Index>& out = indexes_[table];
  for (auto& [name, index] : byName) out.push_back(std::move(index));
  return out;
}

uint64_t SqlWriteCounter::endStatement(uint64_t changed) {
  counting_ = false;
  uint64_t written = deletes_;
  for (const auto& [table, rows] : inserts_) written += rows * (1 + indexesOf(table).size());
  for (const auto& [table, rows] : updates_) {
    const std::set<std::string>& set = setColumns_[table];
    uint64_t touched = 0;
    for (const Index& index : indexesOf(table)) {
      bool holds = index.expression;
      for (const std::string& column : index.columns) holds = holds || set.contains(column);
      if (holds) ++touched;
    }
    written += rows * (1 + touched);
  }
  return std::max(written, changed);
}

}  // namespace duro::storage
