// Implementation of UserSql (user_sql.h).
#include "storage/user_sql.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <utility>

namespace duro::storage {

namespace {

// ---- the pinned clock -------------------------------------------------------------------------

thread_local int64_t pinnedTimeMs = 0;  // 0: the real clock
sqlite3_vfs* baseVfs = nullptr;
sqlite3_vfs deterministicVfs;

// Milliseconds from the Julian day epoch (what SQLite's clock returns) to the Unix epoch.
constexpr int64_t kUnixEpochJulianMs = 210866760000000LL;

int currentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  if (pinnedTimeMs != 0) {
    *out = pinnedTimeMs + kUnixEpochJulianMs;
    return SQLITE_OK;
  }
  return baseVfs->xCurrentTimeInt64(baseVfs, out);
  (void)vfs;
}

int currentTime(sqlite3_vfs* vfs, double* out) {
  sqlite3_int64 ms = 0;
  int rc = currentTimeInt64(vfs, &ms);
  *out = static_cast<double>(ms) / 86400000.0;
  return rc;
}

struct PinClock {
  explicit PinClock(int64_t ms) { pinnedTimeMs = ms; }
  ~PinClock() { pinnedTimeMs = 0; }
};

// ---- helpers ----------------------------------------------------------------------------------

const char* codeName(int rc) {
  switch (rc & 0xff) {
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_SCHEMA: return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    default: return "SQLITE_ERROR";
  }
}

bool startsWithNoCase(const char* s, std::string_view prefix) {
  if (s == nullptr) return false;
  for (char p : prefix) {
    if (*s == '\0' || std::tolower(static_cast<unsigned char>(*s)) != p) return false;
    ++s;
  }
  return true;
}

bool reservedName(const char* name) {
  return startsWithNoCase(name, "_cf_") || startsWithNoCase(name, "_duro_");
}

// Whether `rest` is only whitespace: the statement before it was the last one. (As in workerd,
// a comment or a ';' after the last statement counts as a statement that is missing.)
bool onlyWhitespace(std::string_view rest) {
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// Whether `name` is one of `names`, ignoring ASCII case as SQLite does for identifiers.
template <size_t N>
bool listed(const char* name, const char* const (&names)[N]) {
  return name != nullptr && std::any_of(std::begin(names), std::end(names), [&](const char* n) {
           return sqlite3_stricmp(name, n) == 0;
         });
}

// PRAGMAs user SQL may run (workerd's list): reading the schema, checks, and per-connection
// behaviour. Everything that changes how the file is stored or reaches outside it (journal_mode,
// writable_schema, max_page_count, user_version, ...) is refused.
constexpr const char* kAllowedPragmas[] = {
    "table_info",         "table_xinfo",        "table_list",       "index_list",
    "index_info",         "index_xinfo",        "foreign_key_list", "foreign_key_check",
    "quick_check",        "page_size",          "data_version",     "optimize",
    "foreign_keys",       "defer_foreign_keys", "case_sensitive_like",
    "recursive_triggers", "ignore_check_constraints", "legacy_alter_table",
    "reverse_unordered_selects"};

// Functions that would tell the code about the host (versions, build options) or act outside SQL.
constexpr const char* kRefusedFunctions[] = {
    "sqlite_version",           "sqlite_source_id", "sqlite_compileoption_used",
    "sqlite_compileoption_get", "sqlite_log",       "unistr", "fts5", "fts3_tokenizer"};

// SQLite's extended result codes by name, for the "(extended: ...)" part of error messages.
const char* extendedCodeName(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_CHECK: return "SQLITE_CONSTRAINT_CHECK";
    case SQLITE_CONSTRAINT_COMMITHOOK: return "SQLITE_CONSTRAINT_COMMITHOOK";
    case SQLITE_CONSTRAINT_FOREIGNKEY: return "SQLITE_CONSTRAINT_FOREIGNKEY";
    case SQLITE_CONSTRAINT_FUNCTION: return "SQLITE_CONSTRAINT_FUNCTION";
    case SQLITE_CONSTRAINT_NOTNULL: return "SQLITE_CONSTRAINT_NOTNULL";
    case SQLITE_CONSTRAINT_PRIMARYKEY: return "SQLITE_CONSTRAINT_PRIMARYKEY";
    case SQLITE_CONSTRAINT_TRIGGER: return "SQLITE_CONSTRAINT_TRIGGER";
    case SQLITE_CONSTRAINT_UNIQUE: return "SQLITE_CONSTRAINT_UNIQUE";
    case SQLITE_CONSTRAINT_VTAB: return "SQLITE_CONSTRAINT_VTAB";
    case SQLITE_CONSTRAINT_ROWID: return "SQLITE_CONSTRAINT_ROWID";
    case SQLITE_CONSTRAINT_PINNED: return "SQLITE_CONSTRAINT_PINNED";
    case SQLITE_CONSTRAINT_DATATYPE: return "SQLITE_CONSTRAINT_DATATYPE";
    default: return nullptr;
  }
}

int progressCallback(void* self) { return static_cast<UserSql*>(self)->overTime(); }

int authorizerCallback(void* self, int action, const char* a, const char* b, const char* dbName,
                       const char* /*trigger*/) {
  return static_cast<UserSql*>(self)->authorize(action, a, b, dbName);
}

void randomFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  auto* self = static_cast<UserSql*>(sqlite3_user_data(ctx));
  sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(self->nextRandom()));
}

void randomBlobFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* self = static_cast<UserSql*>(sqlite3_user_data(ctx));
  sqlite3_int64 n = sqlite3_value_int64(argv[0]);
  if (n < 1) n = 1;
  if (n > sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1)) {
    sqlite3_result_error_toobig(ctx);
    return;
  }
  std::string bytes(static_cast<size_t>(n), '\0');
  for (size_t i = 0; i < bytes.size(); i += 8) {
    uint64_t r = self->nextRandom();
    std::memcpy(bytes.data() + i, &r, std::min<size_t>(8, bytes.size() - i));
  }
  sqlite3_result_blob64(ctx, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
}

// concat(...) and concat_ws(separator, ...) from SQLite 3.44, which workerd has and Debian 12's
// SQLite 3.40 lacks: the text of each argument, NULLs skipped.
void concatFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
    if (text) out.append(text, static_cast<size_t>(sqlite3_value_bytes(argv[i])));
  }
  sqlite3_result_text64(ctx, out.data(), out.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void concatWsFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string separator(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])),
                        static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  std::string out;
  bool first = true;
  for (int i = 1; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    if (!first) out += separator;
    first = false;
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
    if (text) out.append(text, static_cast<size_t>(sqlite3_value_bytes(argv[i])));
  }
  sqlite3_result_text64(ctx, out.data(), out.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// Binds `values` to the parameters of `stmt`, in order; SQLITE_OK or the first failure.
int bindAll(sqlite3_stmt* stmt, const std::vector<SqlValue>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const SqlValue& v = values[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::nullptr_t>(v)) {
      rc = sqlite3_bind_null(stmt, index);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, index, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, index, *d);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else if (const auto* b = std::get_if<SqlBlob>(&v)) {
      rc = sqlite3_bind_blob64(stmt, index, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// Column `c` of the current row of `stmt`.
SqlValue columnValue(sqlite3_stmt* stmt, int c) {
  switch (sqlite3_column_type(stmt, c)) {
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, c));
    case SQLITE_FLOAT: return sqlite3_column_double(stmt, c);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
      return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
    }
    case SQLITE_BLOB: {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, c));
      size_t size = static_cast<size_t>(sqlite3_column_bytes(stmt, c));
      return SqlBlob{data ? std::string(data, size) : std::string()};
    }
    default: return nullptr;
  }
}

// ---- the log encoding of an exec --------------------------------------------------------------

void putU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t u(int bytes) {
    if (in.size() < static_cast<size_t>(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
    in.remove_prefix(static_cast<size_t>(bytes));
    return v;
  }
  std::string bytes(size_t n) {
    if (in.size() < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

const char* deterministicVfsName() {
  static std::once_flag once;
  std::call_once(once, [] {
    baseVfs = sqlite3_vfs_find(nullptr);
    deterministicVfs = *baseVfs;
    deterministicVfs.zName = "duro";
    deterministicVfs.pNext = nullptr;
    deterministicVfs.xCurrentTime = &currentTime;
    if (deterministicVfs.iVersion >= 2) deterministicVfs.xCurrentTimeInt64 = &currentTimeInt64;
    sqlite3_vfs_register(&deterministicVfs, /*makeDflt=*/0);
  });
  return "duro";
}

std::string encodeSqlExec(const SqlExecRecord& record) {
  // The query travels as the op's key; this is the rest: time, seed, flags, bindings.
  std::string out;
  putU64(out, static_cast<uint64_t>(record.timeMs));
  putU64(out, record.seed);
  putU32(out, static_cast<uint32_t>(record.bindings.size()));
  for (const SqlValue& v : record.bindings) {
    out.push_back(static_cast<char>(v.index()));
    if (const auto* i = std::get_if<int64_t>(&v)) {
      putU64(out, static_cast<uint64_t>(*i));
    } else if (const auto* d = std::get_if<double>(&v)) {
      uint64_t bits;
      std::memcpy(&bits, d, 8);
      putU64(out, bits);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      putU32(out, static_cast<uint32_t>(s->size()));
      out += *s;
    } else if (const auto* b = std::get_if<SqlBlob>(&v)) {
      putU32(out, static_cast<uint32_t>(b->bytes.size()));
      out += b->bytes;
    }
  }
  return out;
}

Result<SqlExecRecord> decodeSqlExec(std::string_view query, std::string_view encoded) {
  SqlExecRecord record;
  record.query = std::string(query);
  Reader r{encoded};
  record.timeMs = static_cast<int64_t>(r.u(8));
  record.seed = r.u(8);
  uint64_t count = r.u(4);
  for (uint64_t i = 0; r.ok && i < count; ++i) {
    switch (r.u(1)) {
      case 0: record.bindings.emplace_back(nullptr); break;
      case 1: record.bindings.emplace_back(static_cast<int64_t>(r.u(8))); break;
      case 2: {
        uint64_t bits = r.u(8);
        double d;
        std::memcpy(&d, &bits, 8);
        record.bindings.emplace_back(d);
        break;
      }
      case 3: record.bindings.emplace_back(r.bytes(r.u(4))); break;
      case 4: record.bindings.emplace_back(SqlBlob{r.bytes(r.u(4))}); break;
      default: r.ok = false;
    }
  }
  if (!r.ok || !r.in.empty()) return Status::storage("malformed SQL record in the commit log");
  return record;
}

Status UserSql::attach(sqlite3* db, const SqlLimits& limits) {
  db_ = db;
  limits_ = limits;
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, limits.maxValueBytes);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, limits.maxStatementBytes);
  sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, limits.maxBoundParameters);
  sqlite3_limit(db, SQLITE_LIMIT_COLUMN, limits.maxColumns);
  sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, limits.maxFunctionArgs);
  sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, limits.maxLikePatternBytes);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  // Not documented by Cloudflare, but what workerd sets.
  sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 5);
  sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
  sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 10);
  // Foreign keys are enforced unless the code turns them off (as on Cloudflare).
  sqlite3_exec(db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr);
  sqlite3_set_authorizer(db, &authorizerCallback, this);
  writes_.attach(db);
  // Every 100,000 virtual-machine steps (well under a millisecond), the time is checked.
  sqlite3_progress_handler(db, 100000, &progressCallback, this);
  int flags = SQLITE_UTF8;
  if (sqlite3_create_function_v2(db, "random", 0, flags, this, &randomFunction, nullptr, nullptr,
                                 nullptr) != SQLITE_OK ||
      sqlite3_create_function_v2(db, "randomblob", 1, flags, this, &randomBlobFunction, nullptr,
                                 nullptr, nullptr) != SQLITE_OK) {
    return Status::storage(std::string("cannot set up SQL functions: ") + sqlite3_errmsg(db));
  }
  int deterministic = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  if (sqlite3_libversion_number() < 3044000) {
    sqlite3_create_function_v2(db, "concat", -1, deterministic, nullptr, &concatFunction, nullptr,
                               nullptr, nullptr);
    sqlite3_create_function_v2(db, "concat_ws", -1, deterministic, nullptr, &concatWsFunction,
                               nullptr, nullptr, nullptr);
  }
  // The size limit: SQLite refuses to grow the file beyond this many pages (SQLITE_FULL).
  sqlite3_stmt* stmt = nullptr;
  int64_t pageSize = 4096;
  if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    pageSize = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  uint64_t pages = std::max<uint64_t>(limits.maxDatabaseBytes / static_cast<uint64_t>(pageSize), 16);
  std::string pragma = "PRAGMA max_page_count=" + std::to_string(pages);
  if (sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Status::storage(std::string("cannot set the size limit: ") + sqlite3_errmsg(db));
  }
  return Status::ok();
}

uint64_t UserSql::nextRandom() {
  // splitmix64: small, fast, and the same sequence for the same seed on replay.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int UserSql::overTime() {
  return active_ && std::chrono::steady_clock::now() > deadline_ ? 1 : 0;
}

int UserSql::authorize(int action, const char* a, const char* b, const char* dbName) {
  if (!active_) return SQLITE_OK;  // duro's own statements
  // Refusals return SQLITE_DENY and SQLite words the error ("not authorized", "access to t.c is
  // prohibited", "not authorized to use function: f"), as it does in workerd.
  switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      denial_ =
          "To execute a transaction, please use the state.storage.transaction() or "
          "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
          "statements. The JavaScript API is safer because it will automatically roll back on "
          "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
          "write coalescing.";
      return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return SQLITE_DENY;
    case SQLITE_PRAGMA:
      return listed(a, kAllowedPragmas) && !reservedName(b) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_FUNCTION:
      return listed(b, kRefusedFunctions) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
      return SQLITE_DENY;
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
      // Full-text search and R*Tree only: modules that keep their data in ordinary tables here.
      if (!startsWithNoCase(b, "fts5") && !startsWithNoCase(b, "rtree")) return SQLITE_DENY;
      return reservedName(a) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_ALTER_TABLE:
      // The new name of a RENAME is not given here: run() checks it afterwards.
      altersTable_ = true;
      writes_.schemaChanged();
      return reservedName(b) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_READ:
      if (reservedName(a)) return SQLITE_DENY;
      if (a != nullptr && !startsWithNoCase(a, "sqlite_")) readsTable_ = true;
      return SQLITE_OK;
    case SQLITE_CREATE_INDEX:
    case SQLITE_DROP_INDEX:
      writes_.schemaChanged();
      return reservedName(a) || reservedName(b) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TRIGGER:
      return reservedName(a) || reservedName(b) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_UPDATE:
      if (reservedName(a)) return SQLITE_DENY;
      writes_.setColumn(a, b);
      return SQLITE_OK;
    case SQLITE_DROP_TABLE:
      writes_.schemaChanged();
      return reservedName(a) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_VIEW:
    case SQLITE_DELETE:
    case SQLITE_INSERT:
    case SQLITE_ANALYZE:
    case SQLITE_REINDEX:
      return reservedName(a) ? SQLITE_DENY : SQLITE_OK;
    default:
      (void)dbName;
      return SQLITE_OK;
  }
}

Status UserSql::failure(int rc, std::string_view fallback) {
  // workerd's format: "<SQLite's message>[ at offset N]: SQLITE_<CODE>[ (extended: <NAME>)]".
  std::string message;
  if ((rc & 0xff) == SQLITE_AUTH && !denial_.empty()) {
    message = denial_;
  } else {
    const char* text = sqlite3_errmsg(db_);
    message = text && *text ? text : std::string(fallback);
    int offset = sqlite3_error_offset(db_);
    if (offset >= 0) message += " at offset " + std::to_string(offset);
    message += std::string(": ") + codeName(rc);
    if (const char* extended = extendedCodeName(sqlite3_extended_errcode(db_))) {
      message += std::string(" (extended: ") + extended + ")";
    }
  }
  denial_.clear();
  StatusCode code = StatusCode::kInvalidArgument;
  if ((rc & 0xff) == SQLITE_TOOBIG || (rc & 0xff) == SQLITE_FULL) code = StatusCode::kLimitExceeded;
  if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOMEM) {
    code = StatusCode::kStorage;
  }
  return Status(code, std::move(message));
}

int64_t UserSql::reservedSchemaEntries() {
  bool wasActive = std::exchange(active_, false);
  sqlite3_stmt* stmt = nullptr;
  int64_t count = 0;
  if (sqlite3_prepare_v2(db_,
                         "SELECT count(*) FROM sqlite_schema WHERE name LIKE '\\_cf\\_%' ESCAPE "
                         "'\\' OR name LIKE '\\_duro\\_%' ESCAPE '\\'",
                         -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    count = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  active_ = wasActive;
  return count;
}

UserSql::~UserSql() {
  sqlite3_finalize(savepoint_);
  sqlite3_finalize(rollbackTo_);
  sqlite3_finalize(release_);
}

bool UserSql::internalStep(sqlite3_stmt*& stmt, const char* sql) {
  bool wasActive = std::exchange(active_, false);
  if (stmt == nullptr &&
      sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    active_ = wasActive;
    return false;
  }
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  active_ = wasActive;
  return rc == SQLITE_DONE;
}

Result<SqlResult> UserSql::run(const SqlExecRecord& record, Outcome* outcome) {
  struct Active {
    UserSql& self;
    explicit Active(UserSql& s, uint64_t seed) : self(s) {
      self.active_ = true;
      self.rng_ = seed;
      self.denial_.clear();
    }
    ~Active() { self.active_ = false; }
  } active(*this, record.seed);
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits_.maxExecMs);
  PinClock clock(record.timeMs);
  *outcome = Outcome{};
  SqlResult result;
  std::string_view rest = record.query;
  if (rest.size() > static_cast<size_t>(limits_.maxStatementBytes)) {
    return Status::limitExceeded("statement too long: SQLITE_TOOBIG");
  }
  for (;;) {
    // Error offsets count from the statement's first character, as in workerd.
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
    // On any error below, the statements before this one stay applied.
    const size_t statementStart = static_cast<size_t>(rest.data() - record.query.data());
    outcome->appliedBytes = statementStart;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    readsTable_ = false;
    altersTable_ = false;
    writes_.clearSetColumns();
    int rc = sqlite3_prepare_v3(db_, rest.data(), static_cast<int>(rest.size()), 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return failure(rc, "cannot prepare the statement");
    }
    std::string_view after = tail ? rest.substr(static_cast<size_t>(tail - rest.data())) : "";
    const bool progressed = after.size() < rest.size();
    rest = after;
    if (stmt == nullptr) {
      // Only a ';' or a comment: fine before a statement, an error where one is expected (or
      // where SQLite read nothing, e.g. at a NUL character).
      if (onlyWhitespace(rest) || !progressed) {
        return Status::invalidArgument("SQL code did not contain a statement.");
      }
      continue;
    }
    const bool last = onlyWhitespace(rest);
    int params = sqlite3_bind_parameter_count(stmt);
    if (!last && params > 0) {
      sqlite3_finalize(stmt);
      return Status::invalidArgument(
          "When executing multiple SQL statements in a single call, only the last statement can "
          "have parameters.");
    }
    if (last && static_cast<size_t>(params) != record.bindings.size()) {
      sqlite3_finalize(stmt);
      return Status::invalidArgument("Wrong number of parameter bindings for SQL query.");
    }
    if (last) {
      if (int brc = bindAll(stmt, record.bindings); brc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return failure(brc, "cannot bind a parameter");
      }
    }
    // A statement that writes runs inside a savepoint, so that if it fails it leaves nothing
    // behind (even with ON CONFLICT FAIL): the log then records only the statements before it.
    const bool writes = !sqlite3_stmt_readonly(stmt);
    if (writes && !internalStep(savepoint_, "SAVEPOINT duro_statement")) {
      sqlite3_finalize(stmt);
      return failure(sqlite3_errcode(db_), "cannot open a savepoint");
    }
    int columns = sqlite3_column_count(stmt);
    if (last) {
      result.columnNames.clear();
      result.rows.clear();
      for (int c = 0; c < columns; ++c) {
        const char* name = sqlite3_column_name(stmt, c);
        result.columnNames.emplace_back(name ? name : "");
      }
    }
    const int64_t reservedBefore = altersTable_ ? reservedSchemaEntries() : 0;
    sqlite3_int64 changesBefore = sqlite3_total_changes64(db_);
    writes_.beginStatement();
    uint64_t returned = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ++returned;
      if (!last) continue;
      std::vector<SqlValue>& row = result.rows.emplace_back();
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) row.push_back(columnValue(stmt, c));
    }
    // The error first: the statements below (index lists) would replace SQLite's message.
    Status stepFailure = rc == SQLITE_DONE ? Status::ok() : failure(rc, "cannot run the statement");
    uint64_t changed = static_cast<uint64_t>(sqlite3_total_changes64(db_) - changesBefore);
    uint64_t written;
    {
      // Reads the index lists of the tables written: duro's own statements, not the user's.
      bool wasActive = std::exchange(active_, false);
      written = writes_.endStatement(changed);
      active_ = wasActive;
    }
    // Rows read, approximately (workerd counts every row its patched SQLite visits; stock SQLite
    // tells only full-scan steps): for a statement that reads a table, the most of the rows it
    // returned, scanned or changed.
    // (A full scan of n rows makes n - 1 steps forward after the first row.)
    uint64_t scanned = static_cast<uint64_t>(
        sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0));
    if (scanned > 0) ++scanned;
    if (last) result.rowsRead = 0, result.rowsWritten = 0;
    if (readsTable_) result.rowsRead += std::max({returned, scanned, changed});
    result.rowsWritten += written;
    if (rc == SQLITE_DONE && altersTable_ && reservedSchemaEntries() > reservedBefore) {
      // ALTER TABLE ... RENAME TO a reserved name: refused like any other use of one.
      sqlite3_finalize(stmt);
      internalStep(rollbackTo_, "ROLLBACK TO duro_statement");
      internalStep(release_, "RELEASE duro_statement");
      return Status::invalidArgument("not authorized: SQLITE_AUTH");
    }
    if (rc != SQLITE_DONE) {
      Status failed = std::move(stepFailure);
      sqlite3_finalize(stmt);
      if (writes && sqlite3_get_autocommit(db_) == 0) {
        internalStep(rollbackTo_, "ROLLBACK TO duro_statement");
        internalStep(release_, "RELEASE duro_statement");
      }
      return failed;
    }
    sqlite3_finalize(stmt);
    if (writes) {
      internalStep(release_, "RELEASE duro_statement");
      outcome->wrote = true;
    }
    if (last) break;
  }
  outcome->appliedBytes = record.query.size();
  return result;
}

}  // namespace duro::storage
