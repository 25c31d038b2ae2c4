// PostgreSQL keymap store: shared by several iwfd instances. Writers take an EXCLUSIVE table
// lock (readers go on), so revisions are strictly sequential; a commit sends
// NOTIFY iwf_keymap '<revision>' which LISTENing instances receive after COMMIT.
#include <memory>
#include <poll.h>

#include <libpq-fe.h>

#include "common/pg_deadline.hpp"
#include "keymap/store.hpp"
#include "keymap/store_commit.hpp"

namespace iwf::keymap {

namespace {

const char* const kPostgresMigrations[] = {
    "CREATE TABLE keymap_revisions ("
    "  revision BIGINT PRIMARY KEY,"
    "  created_at_ms BIGINT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  diff TEXT NOT NULL,"
    "  document TEXT NOT NULL)",
};

// Any 64-bit constant: serialises concurrent migrations of the same database.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7305813500112640001)";

using PgResult = pg::Result;

class PostgresStore final : public Store {
  public:
    PostgresStore(std::string conninfo, std::chrono::milliseconds bound)
        : conninfo_(bound.count() > 0 ? pg::withStoreTimeouts(conninfo, bound) : conninfo)
        , shown_(redactStoreSpec(conninfo))
        , bound_(bound) {
        if (bounded()) {
            conn_ = pg::connectWithDeadline(conninfo_, std::chrono::steady_clock::now() + bound_);
            if (conn_ == nullptr) {
                throw StoreError(describe() + ": connect: " + gaveUp());
            }
        } else {
            conn_ = PQconnectdb(conninfo_.c_str());
        }
        if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
            std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
            PQfinish(conn_);
            conn_ = nullptr;
            throw StoreError(describe() + ": connect: " + trim(msg));
        }
        exec("SET client_min_messages = warning", "session");
        migrate();
    }
    ~PostgresStore() override { PQfinish(conn_); }

    std::string describe() const override { return shown_; }

    std::uint64_t headRevision() override {
        ensureConnected();
        PgResult r = query("SELECT max(revision) FROM keymap_revisions", {}, "head");
        return PQgetisnull(r.get(), 0, 0) ? 0 : std::stoull(PQgetvalue(r.get(), 0, 0));
    }

    std::optional<Keymap> load(std::uint64_t revision) override {
        ensureConnected();
        PgResult r = revision == 0
                         ? query(
                               "SELECT document FROM keymap_revisions ORDER BY revision DESC "
                               "LIMIT 1",
                               {}, "load")
                         : query("SELECT document FROM keymap_revisions WHERE revision = $1",
                                 {std::to_string(revision)}, "load");
        if (PQntuples(r.get()) == 0) {
            return std::nullopt;
        }
        try {
            return keymapFromString(PQgetvalue(r.get(), 0, 0));
        } catch (const std::exception& e) {
            throw StoreError(describe() + ": load: " + e.what());
        }
    }

    CommitResult commit(const Keymap& k, const std::string& actor, const std::string& action,
                        const std::string& note) override {
        ensureConnected();
        exec("BEGIN", "commit: begin");
        try {
            exec("LOCK TABLE keymap_revisions IN EXCLUSIVE MODE", "commit: lock");
            CommitResult r = planCommit(*this, k);
            if (!r.created) {
                exec("ROLLBACK", "commit: end");
                return r;
            }
            query(
                "INSERT INTO keymap_revisions (revision, created_at_ms, actor, action, note, "
                "summary, diff, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                {std::to_string(r.revision), std::to_string(nowUnixMs()), actor, action, note,
                 diffSummary(r.changes), renderDiff(r.changes), toCanonicalString(k)},
                "commit: insert");
            query("SELECT pg_notify($1, $2)", {kNotifyChannel, std::to_string(r.revision)},
                  "commit: notify");
            exec("COMMIT", "commit: end");
            return r;
        } catch (...) {
            rollback();
            throw;
        }
    }

    std::vector<RevisionInfo> history(std::size_t limit) override {
        ensureConnected();
        PgResult r = query(
            "SELECT revision, created_at_ms, actor, action, note, summary, diff "
            "FROM keymap_revisions ORDER BY revision DESC LIMIT $1",
            {std::to_string(limit)}, "history");
        std::vector<RevisionInfo> out;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            out.push_back(row(r.get(), i));
        }
        return out;
    }

    std::optional<RevisionInfo> revisionInfo(std::uint64_t revision) override {
        ensureConnected();
        PgResult r = query(
            "SELECT revision, created_at_ms, actor, action, note, summary, diff "
            "FROM keymap_revisions WHERE revision = $1",
            {std::to_string(revision)}, "revision");
        if (PQntuples(r.get()) == 0) {
            return std::nullopt;
        }
        return row(r.get(), 0);
    }

    bool supportsNotify() const override { return true; }

    bool waitForChange(std::chrono::milliseconds timeout) override {
        ensureConnected();
        if (!listening_) {
            exec((std::string("LISTEN ") + kNotifyChannel).c_str(), "listen");
            listening_ = true;
        }
        if (drainNotifications()) {
            return true;
        }
        pollfd p{PQsocket(conn_), POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (rc <= 0) {
            return false;
        }
        if (PQconsumeInput(conn_) == 0) {
            throw StoreError(describe() + ": listen: " + trim(PQerrorMessage(conn_)));
        }
        return drainNotifications();
    }

  private:
    static std::string trim(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
            s.pop_back();
        }
        return s;
    }

    static RevisionInfo row(PGresult* r, int i) {
        RevisionInfo x;
        x.revision = std::stoull(PQgetvalue(r, i, 0));
        x.time_ms = std::stoll(PQgetvalue(r, i, 1));
        x.actor = PQgetvalue(r, i, 2);
        x.action = PQgetvalue(r, i, 3);
        x.note = PQgetvalue(r, i, 4);
        x.summary = PQgetvalue(r, i, 5);
        x.diff = PQgetvalue(r, i, 6);
        return x;
    }

    bool drainNotifications() {
        bool got = false;
        while (PGnotify* n = PQnotifies(conn_)) {
            got = true;
            PQfreemem(n);
        }
        return got;
    }

    bool bounded() const { return bound_.count() > 0; }
    std::string gaveUp() const {
        return "no answer within " + std::to_string(bound_.count()) + " ms (abandoned)";
    }

    // A server restart or a dropped connection: reconnect once (LISTEN is re-issued).
    void ensureConnected() {
        if (PQstatus(conn_) == CONNECTION_OK) {
            return;
        }
        if (bounded()) {
            PQfinish(conn_);
            listening_ = false;
            conn_ = pg::connectWithDeadline(conninfo_, std::chrono::steady_clock::now() + bound_);
            if (conn_ == nullptr) {
                throw StoreError(describe() + ": reconnect: " + gaveUp());
            }
            return;
        }
        PQreset(conn_);
        listening_ = false;
        if (PQstatus(conn_) != CONNECTION_OK) {
            throw StoreError(describe() + ": reconnect: " + trim(PQerrorMessage(conn_)));
        }
    }

    // After a failed step of a transaction; a connection that broke rolls back by itself.
    void rollback() {
        if (bounded()) {
            if (conn_ != nullptr) {
                (void)pg::execWithDeadline(conn_, conninfo_, "ROLLBACK", {}, bound_);
            }
            return;
        }
        PgResult(PQexec(conn_, "ROLLBACK"));
    }

    void exec(const char* sql, const char* what) {
        if (bounded()) {
            (void)query(sql, {}, what);
            return;
        }
        PgResult r(PQexec(conn_, sql));
        ExecStatusType st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            throw StoreError(describe() + ": " + what + ": " + trim(PQerrorMessage(conn_)));
        }
    }

    PgResult query(const char* sql, const std::vector<std::string>& params, const char* what) {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params) {
            values.push_back(p.c_str());
        }
        PgResult r;
        if (bounded()) {
            // Answered within bound_ or abandoned: the connection is closed (conn_ null; the
            // next statement reconnects, within bound_ too).
            r = pg::execWithDeadline(conn_, conninfo_, sql, params, bound_);
            if (!r) {
                listening_ = false;
                throw StoreError(describe() + ": " + what + ": " + gaveUp());
            }
        } else {
            r.reset(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0));
        }
        ExecStatusType st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            throw StoreError(describe() + ": " + what + ": " + trim(PQerrorMessage(conn_)));
        }
        return r;
    }

    void migrate() {
        exec("BEGIN", "migrate: begin");
        try {
            exec(kMigrationLock, "migrate: lock");
            exec("CREATE TABLE IF NOT EXISTS keymap_schema (version INTEGER NOT NULL)",
                 "migrate: version table");
            PgResult r = query("SELECT max(version) FROM keymap_schema", {}, "migrate");
            std::int64_t version =
                PQgetisnull(r.get(), 0, 0) ? 0 : std::stoll(PQgetvalue(r.get(), 0, 0));
            const auto total = static_cast<std::int64_t>(std::size(kPostgresMigrations));
            if (version > total) {
                throw StoreError(describe() + ": schema version " + std::to_string(version) +
                                 " is newer than this program knows");
            }
            for (std::int64_t v = version; v < total; ++v) {
                exec(kPostgresMigrations[v], "migrate: step");
                query("INSERT INTO keymap_schema (version) VALUES ($1)", {std::to_string(v + 1)},
                      "migrate");
            }
            exec("COMMIT", "migrate: commit");
        } catch (...) {
            rollback();
            throw;
        }
    }

    std::string conninfo_;
    std::string shown_;
    std::chrono::milliseconds bound_{0};
    PGconn* conn_ = nullptr;
    bool listening_ = false;
};

}  // namespace

std::unique_ptr<Store> openPostgresStore(const std::string& conninfo,
                                         std::chrono::milliseconds bound) {
    return std::make_unique<PostgresStore>(conninfo, bound);
}

}  // namespace iwf::keymap
