#pragma once
// The cluster lease in PostgreSQL (docs/ha.md "The lease"): one row per cluster in
// iwf_cluster_lease with its holder, expiry and fencing epoch, and the function
// iwf_fence_check(cluster, epoch) that other stores call in the same statement as a write, so
// that the database refuses the write when a newer epoch exists.
//
// Each operation is one SQL statement (atomic in PostgreSQL); expiry is computed and compared
// only with the database's clock (now()). Blocking libpq calls: the lease keeper runs them on
// its own thread, never on the data plane. Errors are Result errors ("lease_db": the database
// did not answer or refused), except the constructor, which throws LeaseError naming the
// store (control plane, at start).

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/result.hpp"

struct pg_conn;

namespace iwf::gateway::cluster {

class LeaseError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The SQLSTATE iwf_fence_check raises (class "IW": not used by PostgreSQL).
inline constexpr const char* kFencedSqlState = "IWF01";

struct LeaseRow {
    std::string holder;
    std::int64_t epoch = 0;
    double age_seconds = 0;        // since the holder's last acquisition or renewal (DB clock)
    double remaining_seconds = 0;  // until expires_at (negative: expired)
    std::int64_t takeovers = 0;    // acquisitions by an instance other than the previous holder
};

class LeaseStore {
  public:
    // Connects and creates the table and the fencing function if missing (serialised by an
    // advisory lock, so several instances may start at once). Throws LeaseError.
    // `statement_timeout` bounds every later statement, with its reconnection (a store that
    // hangs: common/pg_deadline.hpp): past it the statement fails like one whose connection
    // broke, and the connection is opened again by the next one. It also goes into the
    // connection's TCP keepalive, tcp_user_timeout and the server's statement_timeout.
    LeaseStore(std::string conninfo, std::string cluster, std::string instance,
               std::chrono::milliseconds statement_timeout = std::chrono::seconds(5));
    ~LeaseStore();
    LeaseStore(const LeaseStore&) = delete;
    LeaseStore& operator=(const LeaseStore&) = delete;

    // The URL without its password.
    const std::string& describe() const { return shown_; }
    const std::string& cluster() const { return cluster_; }
    const std::string& instance() const { return instance_; }

    // The cluster's row; nullopt when nobody ever held the lease.
    Result<std::optional<LeaseRow>> read();
    // Takes the lease when it is free (no row, or expired by the database's clock): returns
    // the new epoch, or 0 when another holder's lease is still running.
    Result<std::int64_t> acquire(std::chrono::milliseconds expiry);
    // Extends this instance's lease of `epoch`: the row's takeovers, or nullopt when a newer
    // epoch exists (the lease was taken over: this instance is fenced).
    Result<std::optional<std::int64_t>> renew(std::int64_t epoch, std::chrono::milliseconds expiry);
    // Lets the lease expire now (a clean stop), if `epoch` is still this instance's.
    Status release(std::int64_t epoch);

    // The DDL (tests, docs): the table and iwf_fence_check.
    static const char* schemaSql();

  private:
    struct Answer;
    std::string conninfo_;  // with the timeouts of withStoreTimeouts()
    std::string shown_;
    std::string cluster_;
    std::string instance_;
    std::chrono::milliseconds statement_timeout_;
    pg_conn* conn_ = nullptr;
};

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db" (and password=...).
std::string redactConninfo(const std::string& conninfo);

}  // namespace iwf::gateway::cluster
