// SQLite keymap store: one file, WAL journal, schema version table, BEGIN IMMEDIATE writers.
#include <thread>

#include <sqlite3.h>

#include "keymap/store.hpp"
#include "keymap/store_commit.hpp"

namespace iwf::keymap {

namespace {

// Schema migrations: step i brings the schema from version i to i + 1.
const char* const kSqliteMigrations[] = {
    // 0 -> 1: revisions with their audit record and the whole keymap (canonical JSON).
    "CREATE TABLE keymap_revisions ("
    "  revision INTEGER PRIMARY KEY,"
    "  created_at_ms INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  diff TEXT NOT NULL,"
    "  document TEXT NOT NULL)",
};

class Stmt {
  public:
    Stmt(sqlite3* db, const char* sql, const std::string& where) : db_(db), where_(where) {
        if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
            throw StoreError(where_ + ": " + sqlite3_errmsg(db));
        }
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(st_, i, v);
        return *this;
    }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    // true if a row is available.
    bool step() {
        int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        throw StoreError(where_ + ": " + sqlite3_errmsg(db_));
    }
    std::int64_t integer(int col) { return sqlite3_column_int64(st_, col); }
    bool isNull(int col) { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
    std::string text(int col) {
        const auto* p = sqlite3_column_text(st_, col);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
                 : std::string();
    }

  private:
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
    std::string where_;
};

class SqliteStore final : public Store {
  public:
    explicit SqliteStore(std::string path) : path_(std::move(path)) {
        if (sqlite3_open_v2(path_.c_str(), &db_,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            db_ = nullptr;
            throw StoreError(describe() + ": open: " + msg);
        }
        sqlite3_busy_timeout(db_, 30000);
        exec("PRAGMA journal_mode=WAL", "journal_mode");
        exec("PRAGMA synchronous=NORMAL", "synchronous");
        migrate();
    }
    ~SqliteStore() override { sqlite3_close(db_); }

    std::string describe() const override { return "sqlite:" + path_; }

    std::uint64_t headRevision() override {
        Stmt s(db_, "SELECT max(revision) FROM keymap_revisions", describe() + ": head");
        s.step();
        return s.isNull(0) ? 0 : static_cast<std::uint64_t>(s.integer(0));
    }

    std::optional<Keymap> load(std::uint64_t revision) override {
        std::optional<std::string> doc = document(revision);
        if (!doc) {
            return std::nullopt;
        }
        try {
            return keymapFromString(*doc);
        } catch (const std::exception& e) {
            throw StoreError(describe() + ": load: " + e.what());
        }
    }

    CommitResult commit(const Keymap& k, const std::string& actor, const std::string& action,
                        const std::string& note) override {
        exec("BEGIN IMMEDIATE", "commit: begin");
        try {
            CommitResult r = commitLocked(k, actor, action, note);
            exec(r.created ? "COMMIT" : "ROLLBACK", "commit: end");
            return r;
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    std::vector<RevisionInfo> history(std::size_t limit) override {
        Stmt s(db_,
               "SELECT revision, created_at_ms, actor, action, note, summary, diff "
               "FROM keymap_revisions ORDER BY revision DESC LIMIT ?",
               describe() + ": history");
        s.bind(1, static_cast<std::int64_t>(limit));
        std::vector<RevisionInfo> out;
        while (s.step()) {
            out.push_back(row(s));
        }
        return out;
    }

    std::optional<RevisionInfo> revisionInfo(std::uint64_t revision) override {
        Stmt s(db_,
               "SELECT revision, created_at_ms, actor, action, note, summary, diff "
               "FROM keymap_revisions WHERE revision = ?",
               describe() + ": revision");
        s.bind(1, static_cast<std::int64_t>(revision));
        if (!s.step()) {
            return std::nullopt;
        }
        return row(s);
    }

  private:
    static RevisionInfo row(Stmt& s) {
        RevisionInfo r;
        r.revision = static_cast<std::uint64_t>(s.integer(0));
        r.time_ms = s.integer(1);
        r.actor = s.text(2);
        r.action = s.text(3);
        r.note = s.text(4);
        r.summary = s.text(5);
        r.diff = s.text(6);
        return r;
    }

    std::optional<std::string> document(std::uint64_t revision) {
        if (revision == 0) {
            revision = headRevision();
            if (revision == 0) {
                return std::nullopt;
            }
        }
        Stmt s(db_, "SELECT document FROM keymap_revisions WHERE revision = ?",
               describe() + ": load");
        s.bind(1, static_cast<std::int64_t>(revision));
        if (!s.step()) {
            return std::nullopt;
        }
        return s.text(0);
    }

    CommitResult commitLocked(const Keymap& k, const std::string& actor, const std::string& action,
                              const std::string& note) {
        CommitResult r = planCommit(*this, k);
        if (!r.created) {
            return r;
        }
        Stmt ins(db_,
                 "INSERT INTO keymap_revisions (revision, created_at_ms, actor, action, note, "
                 "summary, diff, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 describe() + ": commit");
        ins.bind(1, static_cast<std::int64_t>(r.revision))
            .bind(2, nowUnixMs())
            .bind(3, actor)
            .bind(4, action)
            .bind(5, note)
            .bind(6, diffSummary(r.changes))
            .bind(7, renderDiff(r.changes))
            .bind(8, toCanonicalString(k));
        ins.step();
        return r;
    }

    void exec(const char* sql, const char* what) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errmsg(db_);
            sqlite3_free(err);
            throw StoreError(describe() + ": " + what + ": " + msg);
        }
    }

    void migrate() {
        exec("BEGIN IMMEDIATE", "migrate: begin");
        try {
            exec("CREATE TABLE IF NOT EXISTS keymap_schema (version INTEGER NOT NULL)",
                 "migrate: version table");
            std::int64_t version = 0;
            {
                Stmt s(db_, "SELECT max(version) FROM keymap_schema", describe() + ": migrate");
                s.step();
                version = s.isNull(0) ? 0 : s.integer(0);
            }
            const auto total = static_cast<std::int64_t>(std::size(kSqliteMigrations));
            if (version > total) {
                throw StoreError(describe() + ": schema version " + std::to_string(version) +
                                 " is newer than this program knows (" + std::to_string(total) +
                                 ")");
            }
            for (std::int64_t v = version; v < total; ++v) {
                exec(kSqliteMigrations[v], "migrate: step");
                Stmt s(db_, "INSERT INTO keymap_schema (version) VALUES (?)",
                       describe() + ": migrate");
                s.bind(1, v + 1);
                s.step();
            }
            exec("COMMIT", "migrate: commit");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    std::string path_;
    sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> openSqliteStore(const std::string& path) {
    return std::make_unique<SqliteStore>(path);
}

}  // namespace iwf::keymap
