// SQLite and PostgreSQL MessageStore (durable/message_store.hpp).
#include "durable/message_store.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "common/log.hpp"
#include "common/pg_deadline.hpp"
#include "durable/event_json.hpp"

namespace iwf::durable {

namespace {

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const char* sideName(Side s) {
    return s == Side::Lmr ? "lmr" : "mc";
}

// The one table, the same columns on both back ends (types differ).
constexpr const char* kSqliteSchema =
    "CREATE TABLE IF NOT EXISTS iwf_messages ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  owner TEXT NOT NULL,"
    "  epoch INTEGER NOT NULL DEFAULT 0,"
    "  link TEXT NOT NULL,"
    "  side TEXT NOT NULL,"
    "  message_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  accepted_at_ms INTEGER NOT NULL,"
    "  delivered_at_ms INTEGER,"
    "  last_attempt_ms INTEGER,"
    "  UNIQUE (link, message_id))";
constexpr const char* kPostgresSchema =
    "CREATE TABLE IF NOT EXISTS iwf_messages ("
    "  seq BIGSERIAL PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  epoch BIGINT NOT NULL DEFAULT 0,"
    "  link TEXT NOT NULL,"
    "  side TEXT NOT NULL,"
    "  message_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  accepted_at_ms BIGINT NOT NULL,"
    "  delivered_at_ms BIGINT,"
    "  last_attempt_ms BIGINT,"
    "  UNIQUE (link, message_id))";

class SqliteMessageStore final : public MessageStore {
  public:
    SqliteMessageStore(std::string path, std::string owner)
        : path_(std::move(path)), owner_(std::move(owner)) {
        if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw std::runtime_error(describe() + ": open: " + msg);
        }
        sqlite3_busy_timeout(db_, 5000);
        // WAL + synchronous=FULL: a COMMIT is on disk (fsync) before accept() returns.
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=FULL");
        exec(kSqliteSchema);
    }
    ~SqliteMessageStore() override { sqlite3_close(db_); }

    std::string describe() const override { return "sqlite:" + path_; }

    Result<StoreOutcome> accept(const LinkId& from, std::string_view id, const Event& e) override {
        auto kind = messageKind(e);
        if (!kind) {
            return Error{"not_a_message"};
        }
        sqlite3_stmt* st = prepare(
            "INSERT INTO iwf_messages (owner, epoch, link, side, message_id, kind, body, "
            "accepted_at_ms) VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7) "
            "ON CONFLICT (link, message_id) DO NOTHING");
        if (st == nullptr) {
            return Error{"store_prepare"};
        }
        std::string body = eventToJson(e);
        bind(st, 1, owner_);
        bind(st, 2, from.name);
        bind(st, 3, sideName(from.side));
        bind(st, 4, std::string(id));
        bind(st, 5, *kind);
        bind(st, 6, body);
        sqlite3_bind_int64(st, 7, nowMs());
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            log::get("durable")->error("store={} write failed: {}", describe(),
                                       sqlite3_errmsg(db_));
            return Error{"store_write"};
        }
        return sqlite3_changes(db_) == 1 ? StoreOutcome::Stored : StoreOutcome::Duplicate;
    }

    Status delivered(std::string_view id) override {
        sqlite3_stmt* st = prepare(
            "UPDATE iwf_messages SET state = 'delivered', delivered_at_ms = ?1 "
            "WHERE message_id = ?2 AND state = 'pending'");
        if (st == nullptr) {
            return Error{"store_prepare"};
        }
        sqlite3_bind_int64(st, 1, nowMs());
        bind(st, 2, std::string(id));
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            log::get("durable")->error("store={} write failed: {}", describe(),
                                       sqlite3_errmsg(db_));
            return Error{"store_write"};
        }
        return Status::success();
    }

    Result<std::vector<StoredMessage>> takePending(int max_attempts,
                                                   std::int64_t lmr_retry_before_ms,
                                                   std::int64_t mc_retry_before_ms) override {
        exec("BEGIN IMMEDIATE");
        {
            sqlite3_stmt* f = prepare(
                "UPDATE iwf_messages SET state = 'failed' WHERE owner = ?1 AND state = 'pending' "
                "AND attempts >= ?2");
            bind(f, 1, owner_);
            sqlite3_bind_int(f, 2, max_attempts);
            sqlite3_step(f);
            sqlite3_finalize(f);
        }
        std::vector<StoredMessage> out;
        sqlite3_stmt* st = prepare(
            "SELECT seq, link, side, message_id, body, attempts FROM iwf_messages "
            "WHERE owner = ?1 AND state = 'pending' AND "
            "coalesce(last_attempt_ms, accepted_at_ms) < "
            "(CASE side WHEN 'lmr' THEN ?2 ELSE ?3 END) ORDER BY seq");
        bind(st, 1, owner_);
        sqlite3_bind_int64(st, 2, lmr_retry_before_ms);
        sqlite3_bind_int64(st, 3, mc_retry_before_ms);
        std::vector<std::int64_t> seqs;
        while (sqlite3_step(st) == SQLITE_ROW) {
            StoredMessage m;
            m.seq = sqlite3_column_int64(st, 0);
            seqs.push_back(m.seq);
            m.from.name = text(st, 1);
            m.from.side = text(st, 2) == "lmr" ? Side::Lmr : Side::Mc;
            m.message_id = text(st, 3);
            m.attempts = sqlite3_column_int(st, 5) + 1;
            try {
                m.event = eventFromJson(text(st, 4));
            } catch (const std::exception&) {
                continue;  // unreadable body: counted as an attempt, failed in the end
            }
            out.push_back(std::move(m));
        }
        sqlite3_finalize(st);
        for (auto seq : seqs) {
            sqlite3_stmt* u = prepare(
                "UPDATE iwf_messages SET attempts = attempts + 1, last_attempt_ms = ?1 "
                "WHERE seq = ?2");
            sqlite3_bind_int64(u, 1, nowMs());
            sqlite3_bind_int64(u, 2, seq);
            sqlite3_step(u);
            sqlite3_finalize(u);
        }
        if (!exec("COMMIT")) {
            log::get("durable")->error("store={} commit failed: {}", describe(),
                                       sqlite3_errmsg(db_));
            return Error{"store_write"};
        }
        return out;
    }

  private:
    bool exec(const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "?";
            sqlite3_free(err);
            if (std::string_view(sql).rfind("CREATE", 0) == 0 ||
                std::string_view(sql).rfind("PRAGMA", 0) == 0) {
                throw std::runtime_error(describe() + ": " + msg);
            }
            return false;
        }
        return true;
    }
    sqlite3_stmt* prepare(const char* sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
            return nullptr;
        }
        return st;
    }
    static void bind(sqlite3_stmt* st, int i, const std::string& v) {
        sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    static std::string text(sqlite3_stmt* st, int col) {
        const auto* p = sqlite3_column_text(st, col);
        return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    }

    std::string path_;
    std::string owner_;
    sqlite3* db_ = nullptr;
};

struct PgResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// Every statement of the PostgreSQL store is answered within this or abandoned (a store that
// hangs instead of refusing: common/pg_deadline.hpp, docs/ha.md). The calls run on the thread
// of the link that accepts a message (the MCData link answers 500 then: not acknowledged, the
// sender retries) and on the daemon's thread (the 2 s redelivery): neither may wait without end.
constexpr std::chrono::milliseconds kPgStatementTimeout{2000};

// The SQLSTATE of iwf_fence_check (gateway/cluster/lease_store.hpp kFencedSqlState).
constexpr const char* kFencedSqlState = "IWF01";

class PostgresMessageStore final : public MessageStore {
  public:
    PostgresMessageStore(std::string conninfo, std::string owner, std::optional<Fencing> fencing)
        : conninfo_(std::move(conninfo))
        , timed_conninfo_(pg::withStoreTimeouts(conninfo_, kPgStatementTimeout))
        , owner_(std::move(owner))
        , fencing_(std::move(fencing)) {
        connect();
        PgResult r(PQexec(conn_, kPostgresSchema));
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
            throw std::runtime_error(describe() + ": schema: " + PQerrorMessage(conn_));
        }
        // The cluster column (docs/ha.md): '' for the rows of an instance without a cluster.
        PgResult a(PQexec(conn_,
                          "ALTER TABLE iwf_messages ADD COLUMN IF NOT EXISTS cluster TEXT NOT NULL "
                          "DEFAULT ''"));
        if (PQresultStatus(a.get()) != PGRES_COMMAND_OK) {
            throw std::runtime_error(describe() + ": schema: " + PQerrorMessage(conn_));
        }
    }
    ~PostgresMessageStore() override { PQfinish(conn_); }

    std::string describe() const override {
        // postgresql://user:password@host/db -> the password is never shown.
        std::string s = conninfo_;
        auto at = s.find('@');
        auto scheme = s.find("://");
        if (at != std::string::npos && scheme != std::string::npos) {
            auto colon = s.find(':', scheme + 3);
            if (colon != std::string::npos && colon < at) {
                s.replace(colon + 1, at - colon - 1, "***");
            }
        }
        return s;
    }

    Result<StoreOutcome> accept(const LinkId& from, std::string_view id, const Event& e) override {
        auto kind = messageKind(e);
        if (!kind) {
            return Error{"not_a_message"};
        }
        std::vector<std::string> params{
            owner_, from.name,      sideName(from.side),    std::string(id),
            *kind,  eventToJson(e), std::to_string(nowMs())};
        PgResult r;
        if (fencing_) {
            params.push_back(fencing_->cluster);
            params.push_back(std::to_string(fencing_->epoch()));
            r = query(
                "WITH f AS (SELECT iwf_fence_check($8, $9::bigint)) "
                "INSERT INTO iwf_messages (owner, epoch, cluster, link, side, message_id, kind, "
                "body, accepted_at_ms) SELECT $1, $9::bigint, $8, $2, $3, $4, $5, $6, $7::bigint "
                "FROM f ON CONFLICT (link, message_id) DO NOTHING",
                params);
        } else {
            r = query(
                "INSERT INTO iwf_messages (owner, epoch, link, side, message_id, kind, body, "
                "accepted_at_ms) VALUES ($1, 0, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (link, message_id) DO NOTHING",
                params);
        }
        if (fenced(r)) {
            return Error{"fenced"};
        }
        if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
            log::get("durable")->error("store={} write failed: {}", describe(),
                                       PQerrorMessage(conn_));
            return Error{"store_write"};
        }
        return std::string(PQcmdTuples(r.get())) == "1" ? StoreOutcome::Stored
                                                        : StoreOutcome::Duplicate;
    }

    Status delivered(std::string_view id) override {
        PgResult r =
            fencing_
                ? query(
                      "WITH f AS (SELECT iwf_fence_check($3, $4::bigint)) "
                      "UPDATE iwf_messages SET state = 'delivered', delivered_at_ms = $1 FROM f "
                      "WHERE message_id = $2 AND state = 'pending'",
                      {std::to_string(nowMs()), std::string(id), fencing_->cluster,
                       std::to_string(fencing_->epoch())})
                : query(
                      "UPDATE iwf_messages SET state = 'delivered', delivered_at_ms = $1 "
                      "WHERE message_id = $2 AND state = 'pending'",
                      {std::to_string(nowMs()), std::string(id)});
        if (fenced(r)) {
            return Error{"fenced"};
        }
        if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
            log::get("durable")->error("store={} write failed: {}", describe(),
                                       PQerrorMessage(conn_));
            return Error{"store_write"};
        }
        return Status::success();
    }

    Result<std::vector<StoredMessage>> takePending(int max_attempts,
                                                   std::int64_t lmr_retry_before_ms,
                                                   std::int64_t mc_retry_before_ms) override {
        PgResult f;
        PgResult r;
        if (fencing_) {
            // In a cluster the active instance (the holder of the current epoch) takes the
            // pending rows of every instance of the cluster and makes them its own.
            const std::string epoch = std::to_string(fencing_->epoch());
            f = query(
                "WITH f AS (SELECT iwf_fence_check($1, $3::bigint)) "
                "UPDATE iwf_messages SET state = 'failed' FROM f WHERE cluster = $1 AND "
                "state = 'pending' AND attempts >= $2",
                {fencing_->cluster, std::to_string(max_attempts), epoch});
            r = query(
                "WITH f AS (SELECT iwf_fence_check($5, $6::bigint)) "
                "UPDATE iwf_messages SET attempts = attempts + 1, last_attempt_ms = $2, "
                "owner = $1, epoch = $6::bigint FROM f "
                "WHERE cluster = $5 AND state = 'pending' AND "
                "coalesce(last_attempt_ms, accepted_at_ms) < "
                "(CASE side WHEN 'lmr' THEN $3::bigint ELSE $4::bigint END) "
                "RETURNING seq, link, side, message_id, body, attempts",
                {owner_, std::to_string(nowMs()), std::to_string(lmr_retry_before_ms),
                 std::to_string(mc_retry_before_ms), fencing_->cluster, epoch});
        } else {
            f = query(
                "UPDATE iwf_messages SET state = 'failed' WHERE owner = $1 AND state = 'pending' "
                "AND attempts >= $2",
                {owner_, std::to_string(max_attempts)});
            r = query(
                "UPDATE iwf_messages SET attempts = attempts + 1, last_attempt_ms = $2 "
                "WHERE owner = $1 AND state = 'pending' AND "
                "coalesce(last_attempt_ms, accepted_at_ms) < "
                "(CASE side WHEN 'lmr' THEN $3::bigint ELSE $4::bigint END) "
                "RETURNING seq, link, side, message_id, body, attempts",
                {owner_, std::to_string(nowMs()), std::to_string(lmr_retry_before_ms),
                 std::to_string(mc_retry_before_ms)});
        }
        if (fenced(r)) {
            return Error{"fenced"};
        }
        if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            log::get("durable")->error("store={} read failed: {}", describe(),
                                       PQerrorMessage(conn_));
            return Error{"store_read"};
        }
        std::vector<StoredMessage> out;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            StoredMessage m;
            m.seq = std::stoll(PQgetvalue(r.get(), i, 0));
            m.from.name = PQgetvalue(r.get(), i, 1);
            m.from.side = std::string(PQgetvalue(r.get(), i, 2)) == "lmr" ? Side::Lmr : Side::Mc;
            m.message_id = PQgetvalue(r.get(), i, 3);
            m.attempts = std::stoi(PQgetvalue(r.get(), i, 5));
            try {
                m.event = eventFromJson(PQgetvalue(r.get(), i, 4));
            } catch (const std::exception&) {
                continue;
            }
            out.push_back(std::move(m));
        }
        std::sort(out.begin(), out.end(),
                  [](const StoredMessage& a, const StoredMessage& b) { return a.seq < b.seq; });
        return out;
    }

  private:
    // The database refused the write: a newer fencing epoch exists (docs/ha.md).
    bool fenced(const PgResult& r) {
        if (!r || PQresultStatus(r.get()) != PGRES_FATAL_ERROR) {
            return false;
        }
        const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
        if (state == nullptr || std::string_view(state) != kFencedSqlState) {
            return false;
        }
        log::get("durable")->warn("store={} write refused: {} (this instance is fenced)",
                                  describe(), PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY));
        return true;
    }
    void connect() {
        conn_ = PQconnectdb(timed_conninfo_.c_str());
        if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
            std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
            PQfinish(conn_);
            conn_ = nullptr;
            throw std::runtime_error(describe() + ": connect: " + msg);
        }
    }
    // Null when the store did not answer within kPgStatementTimeout (the connection is then
    // closed and reopened by the next statement) or the connection is broken.
    PgResult query(const char* sql, const std::vector<std::string>& params) {
        pg::Result r =
            pg::execWithDeadline(conn_, timed_conninfo_, sql, params, kPgStatementTimeout);
        if (!r && conn_ == nullptr) {
            log::get("durable")->warn("store={} no answer within {} ms: connection closed",
                                      describe(), kPgStatementTimeout.count());
        }
        return PgResult(r.release());
    }

    std::string conninfo_;
    std::string timed_conninfo_;
    std::string owner_;
    std::optional<Fencing> fencing_;
    PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<MessageStore> openMessageStore(const std::string& spec, const std::string& owner,
                                               std::optional<Fencing> fencing) {
    if (spec.rfind("sqlite:", 0) == 0) {
        if (fencing) {
            throw std::runtime_error("message store " + spec +
                                     ": a cluster needs a shared store (postgresql://...)");
        }
        return std::make_unique<SqliteMessageStore>(spec.substr(7), owner);
    }
    if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) {
        return std::make_unique<PostgresMessageStore>(spec, owner, std::move(fencing));
    }
    throw std::runtime_error("message store: expected sqlite:PATH or postgresql://..., got " +
                             spec);
}

}  // namespace iwf::durable
