#include "gateway/cluster/lease_store.hpp"

#include <memory>
#include <regex>
#include <vector>

#include <libpq-fe.h>

#include "common/log.hpp"
#include "common/pg_deadline.hpp"

namespace iwf::gateway::cluster {

namespace {

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// The table and the fencing function. iwf_fence_check locks the lease row FOR SHARE, which
// conflicts with the UPDATE of a takeover: a takeover waits for a fenced write in flight to
// commit, and a write after the takeover sees the new epoch and raises (docs/ha.md).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS iwf_cluster_lease (
  cluster TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  acquired_at TIMESTAMPTZ NOT NULL,
  renewed_at TIMESTAMPTZ NOT NULL,
  takeovers BIGINT NOT NULL DEFAULT 0);
CREATE OR REPLACE FUNCTION iwf_fence_check(p_cluster TEXT, p_epoch BIGINT) RETURNS BOOLEAN
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM iwf_cluster_lease WHERE cluster = p_cluster AND epoch = p_epoch FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'iwf_fenced: epoch % is not the current epoch of cluster %',
      p_epoch, p_cluster USING ERRCODE = 'IWF01';
  END IF;
  RETURN TRUE;
END
$fn$;
)sql";

// Any 64-bit constant: serialises the DDL of instances starting at once (CREATE OR REPLACE
// FUNCTION run concurrently fails with "tuple concurrently updated").
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7305813500112640017)";

// Acquire: insert the row, or take it over only when it has expired by the database's clock.
// The epoch only grows; takeovers counts a change of holder.
constexpr const char* kAcquire = R"sql(
INSERT INTO iwf_cluster_lease AS l
  (cluster, holder, epoch, expires_at, acquired_at, renewed_at, takeovers)
VALUES ($1, $2, 1, now() + $3::bigint * interval '1 millisecond', now(), now(), 0)
ON CONFLICT (cluster) DO UPDATE SET
  holder = EXCLUDED.holder,
  epoch = l.epoch + 1,
  expires_at = EXCLUDED.expires_at,
  acquired_at = now(),
  renewed_at = now(),
  takeovers = l.takeovers + CASE WHEN l.holder <> EXCLUDED.holder THEN 1 ELSE 0 END
WHERE l.expires_at < now()
RETURNING epoch)sql";

// Renew: only the holder of the current epoch. An expired lease nobody took over may be
// renewed (no newer epoch exists, so nothing was done by anybody else meanwhile).
constexpr const char* kRenew = R"sql(
UPDATE iwf_cluster_lease
SET expires_at = now() + $4::bigint * interval '1 millisecond', renewed_at = now()
WHERE cluster = $1 AND holder = $2 AND epoch = $3
RETURNING takeovers)sql";

constexpr const char* kRelease = R"sql(
UPDATE iwf_cluster_lease SET expires_at = now()
WHERE cluster = $1 AND holder = $2 AND epoch = $3)sql";

constexpr const char* kRead = R"sql(
SELECT holder, epoch, extract(epoch FROM now() - renewed_at),
       extract(epoch FROM expires_at - now()), takeovers
FROM iwf_cluster_lease WHERE cluster = $1)sql";

bool ok(const PgResult& r) {
    if (!r) {
        return false;
    }
    auto s = PQresultStatus(r.get());
    return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

std::string trimmed(const char* s) {
    std::string m = s != nullptr ? s : "";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) {
        m.pop_back();
    }
    return m;
}

}  // namespace

std::string redactConninfo(const std::string& conninfo) {
    static const std::regex kUrl(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
    static const std::regex kKv(R"(password\s*=\s*\S+)");
    return std::regex_replace(std::regex_replace(conninfo, kUrl, "$1:***@"), kKv, "password=***");
}

const char* LeaseStore::schemaSql() {
    return kSchema;
}

LeaseStore::LeaseStore(std::string conninfo, std::string cluster, std::string instance,
                       std::chrono::milliseconds statement_timeout)
    : conninfo_(pg::withStoreTimeouts(conninfo, statement_timeout))
    , shown_(redactConninfo(conninfo))
    , cluster_(std::move(cluster))
    , instance_(std::move(instance))
    , statement_timeout_(statement_timeout) {
    conn_ = PQconnectdb(conninfo_.c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = conn_ != nullptr ? trimmed(PQerrorMessage(conn_)) : "out of memory";
        PQfinish(conn_);
        conn_ = nullptr;
        throw LeaseError(shown_ + ": connect: " + msg);
    }
    PgResult(PQexec(conn_, "SET client_min_messages = warning"));
    PgResult b(PQexec(conn_, "BEGIN"));
    PgResult l(PQexec(conn_, kSchemaLock));
    PgResult s(PQexec(conn_, kSchema));
    if (!ok(s)) {
        std::string msg = trimmed(PQerrorMessage(conn_));
        PgResult(PQexec(conn_, "ROLLBACK"));
        throw LeaseError(shown_ + ": schema: " + msg);
    }
    PgResult c(PQexec(conn_, "COMMIT"));
    if (!ok(c)) {
        throw LeaseError(shown_ + ": schema: " + trimmed(PQerrorMessage(conn_)));
    }
}

LeaseStore::~LeaseStore() {
    PQfinish(conn_);
}

// One statement within statement_timeout_ (common/pg_deadline.hpp); null when the store did
// not answer in time or the connection is broken (then closed: the next statement reopens it).
struct LeaseStore::Answer {
    static PgResult exec(LeaseStore& s, const char* sql, const std::vector<std::string>& params) {
        pg::Result r =
            pg::execWithDeadline(s.conn_, s.conninfo_, sql, params, s.statement_timeout_);
        if (!r) {
            log::get("cluster")->debug("lease=statement abandoned: no answer within {} ms{}",
                                       s.statement_timeout_.count(),
                                       s.conn_ != nullptr ? "" : " (connection closed)");
        }
        return PgResult(r.release());
    }
};

Result<std::optional<LeaseRow>> LeaseStore::read() {
    PgResult r = Answer::exec(*this, kRead, {cluster_});
    if (!ok(r)) {
        log::get("cluster")->debug("lease=read failed: {}", trimmed(PQerrorMessage(conn_)));
        return Error{"lease_db"};
    }
    if (PQntuples(r.get()) == 0) {
        return std::optional<LeaseRow>{};
    }
    LeaseRow row;
    row.holder = PQgetvalue(r.get(), 0, 0);
    row.epoch = std::stoll(PQgetvalue(r.get(), 0, 1));
    row.age_seconds = std::stod(PQgetvalue(r.get(), 0, 2));
    row.remaining_seconds = std::stod(PQgetvalue(r.get(), 0, 3));
    row.takeovers = std::stoll(PQgetvalue(r.get(), 0, 4));
    return std::optional<LeaseRow>{row};
}

Result<std::int64_t> LeaseStore::acquire(std::chrono::milliseconds expiry) {
    PgResult r =
        Answer::exec(*this, kAcquire, {cluster_, instance_, std::to_string(expiry.count())});
    if (!ok(r)) {
        log::get("cluster")->debug("lease=acquire failed: {}", trimmed(PQerrorMessage(conn_)));
        return Error{"lease_db"};
    }
    return PQntuples(r.get()) == 1 ? std::stoll(PQgetvalue(r.get(), 0, 0)) : std::int64_t{0};
}

Result<std::optional<std::int64_t>> LeaseStore::renew(std::int64_t epoch,
                                                      std::chrono::milliseconds expiry) {
    PgResult r =
        Answer::exec(*this, kRenew,
                     {cluster_, instance_, std::to_string(epoch), std::to_string(expiry.count())});
    if (!ok(r)) {
        log::get("cluster")->debug("lease=renew failed: {}", trimmed(PQerrorMessage(conn_)));
        return Error{"lease_db"};
    }
    if (PQntuples(r.get()) != 1) {
        return std::optional<std::int64_t>{};
    }
    return std::optional<std::int64_t>{std::stoll(PQgetvalue(r.get(), 0, 0))};
}

Status LeaseStore::release(std::int64_t epoch) {
    PgResult r = Answer::exec(*this, kRelease, {cluster_, instance_, std::to_string(epoch)});
    return ok(r) ? Status::success() : Status(Error{"lease_db"});
}

}  // namespace iwf::gateway::cluster
