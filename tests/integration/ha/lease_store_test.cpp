// The cluster lease in a real PostgreSQL (docs/ha.md "The lease", "Fencing writes"):
// acquisition only when expired by the database's clock, one winner among concurrent
// acquirers, renewal only by the holder of the current epoch, iwf_fence_check refusing an
// older epoch, and the durable message queue's writes fenced by it.
#include "gateway/cluster/lease_store.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "durable/message_store.hpp"
#include "gateway/cluster/fence.hpp"
#include "keymap_env.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::gateway::cluster {
namespace {

using namespace std::chrono_literals;
using iwf::test::waitFor;

constexpr auto kExpiry = 400ms;

std::int64_t orElse(const Result<std::int64_t>& r, std::int64_t v) {
    return r.ok() ? *r : v;
}

struct LeaseSql : ::testing::Test {
    void SetUp() override {
        url = keymap::test::freshPostgresDatabase();
        ASSERT_FALSE(url.empty());
    }
    std::unique_ptr<LeaseStore> store(const std::string& instance,
                                      const std::string& cluster = "c1") {
        return std::make_unique<LeaseStore>(url, cluster, instance);
    }
    // Runs `sql` on a connection of its own; returns the SQLSTATE ("" on success).
    std::string sqlState(const std::string& sql) {
        PGconn* c = PQconnectdb(url.c_str());
        PGresult* r = PQexec(c, sql.c_str());
        std::string state;
        if (PQresultStatus(r) == PGRES_FATAL_ERROR) {
            const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            state = s != nullptr ? s : "?";
        }
        PQclear(r);
        PQfinish(c);
        return state;
    }
    std::string url;
};

TEST_F(LeaseSql, AcquiredOnlyWhenExpiredAndTheEpochGrows) {
    auto a = store("a");
    auto b = store("b");
    auto ea = a->acquire(kExpiry);
    ASSERT_TRUE(ea.ok());
    EXPECT_EQ(*ea, 1);
    // B cannot take a running lease; A itself cannot take it twice either.
    EXPECT_EQ(*b->acquire(kExpiry), 0);
    EXPECT_EQ(*a->acquire(kExpiry), 0);
    auto row = b->read();
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_EQ((*row)->holder, "a");
    EXPECT_EQ((*row)->epoch, 1);
    EXPECT_EQ((*row)->takeovers, 0);
    // Once the database's clock passes the expiry, B takes it with the next epoch.
    std::int64_t eb = 0;
    ASSERT_TRUE(waitFor(
        [&] {
            eb = orElse(b->acquire(kExpiry), 0);
            return eb != 0;
        },
        10s, 50ms));
    EXPECT_EQ(eb, 2);
    row = a->read();
    EXPECT_EQ((*row)->holder, "b");
    EXPECT_EQ((*row)->takeovers, 1);
    // Another cluster's row is independent.
    EXPECT_EQ(*store("a", "c2")->acquire(kExpiry), 1);
}

TEST_F(LeaseSql, RenewedOnlyByTheHolderOfTheCurrentEpoch) {
    auto a = store("a");
    auto b = store("b");
    ASSERT_EQ(*a->acquire(kExpiry), 1);
    // A renews as long as it holds epoch 1: the lease never expires meanwhile.
    for (int i = 0; i < 5; ++i) {
        auto r = a->renew(1, kExpiry);
        ASSERT_TRUE(r.ok() && r->has_value());
        EXPECT_EQ(*b->acquire(kExpiry), 0);
    }
    // B cannot renew A's epoch.
    EXPECT_FALSE(b->renew(1, kExpiry)->has_value());
    // A stops renewing; B takes over; A's renewal of epoch 1 now finds a newer epoch.
    ASSERT_TRUE(waitFor([&] { return orElse(b->acquire(kExpiry), 0) == 2; }, 10s, 50ms));
    auto lost = a->renew(1, kExpiry);
    ASSERT_TRUE(lost.ok());
    EXPECT_FALSE(lost->has_value());
    EXPECT_TRUE(b->renew(2, kExpiry)->has_value());
}

TEST_F(LeaseSql, ReleaseLetsTheStandbyAcquireAtOnce) {
    auto a = store("a");
    auto b = store("b");
    ASSERT_EQ(*a->acquire(60s), 1);
    EXPECT_EQ(*b->acquire(60s), 0);
    ASSERT_TRUE(a->release(1).ok());
    EXPECT_EQ(*b->acquire(60s), 2);
    // A release of an epoch that is not current changes nothing.
    ASSERT_TRUE(a->release(1).ok());
    EXPECT_EQ(*a->acquire(60s), 0);
}

// Eight instances race for a free lease, then for the expired lease: one winner each time.
TEST_F(LeaseSql, ConcurrentAcquirersHaveExactlyOneWinner) {
    constexpr int kN = 8;
    std::vector<std::unique_ptr<LeaseStore>> stores;
    for (int i = 0; i < kN; ++i) {
        stores.push_back(store("i" + std::to_string(i)));
    }
    for (std::int64_t round = 1; round <= 2; ++round) {
        std::atomic<int> go{0};
        std::vector<std::int64_t> got(kN, -1);
        std::vector<std::thread> ts;
        for (int i = 0; i < kN; ++i) {
            ts.emplace_back([&, i] {
                go.fetch_add(1);
                while (go.load() < kN) {
                }
                got[i] = orElse(stores[i]->acquire(300ms), -1);
            });
        }
        for (auto& t : ts) {
            t.join();
        }
        int winners = 0;
        for (auto e : got) {
            ASSERT_GE(e, 0);
            winners += e != 0 ? 1 : 0;
            if (e != 0) {
                EXPECT_EQ(e, round);
            }
        }
        EXPECT_EQ(winners, 1) << "round " << round;
        // Let it expire for the next round.
        ASSERT_TRUE(waitFor([&] { return (*stores[0]->read())->remaining_seconds < 0; }, 10s));
    }
}

TEST_F(LeaseSql, FenceCheckRefusesAnyEpochButTheCurrentOne) {
    auto a = store("a");
    ASSERT_EQ(*a->acquire(1ms), 1);
    ASSERT_TRUE(waitFor([&] { return orElse(store("b")->acquire(60s), 0) == 2; }, 10s));
    EXPECT_EQ(sqlState("SELECT iwf_fence_check('c1', 2)"), "");
    EXPECT_EQ(sqlState("SELECT iwf_fence_check('c1', 1)"), kFencedSqlState);
    EXPECT_EQ(sqlState("SELECT iwf_fence_check('c1', 3)"), kFencedSqlState);
    EXPECT_EQ(sqlState("SELECT iwf_fence_check('other', 2)"), kFencedSqlState);
}

// The durable SDS queue in a cluster: A accepts with epoch 1; B takes over (epoch 2); A's
// writes are refused from then on, and B takes (and delivers) what A accepted.
TEST_F(LeaseSql, MessageQueueWritesCarryTheEpochAndOldOnesAreRefused) {
    auto a = store("a");
    ASSERT_EQ(*a->acquire(300ms), 1);
    std::atomic<std::int64_t> epoch_a{1};
    std::atomic<std::int64_t> epoch_b{0};
    auto qa =
        durable::openMessageStore(url, "a", durable::Fencing{"c1", [&] { return epoch_a.load(); }});
    auto qb =
        durable::openMessageStore(url, "b", durable::Fencing{"c1", [&] { return epoch_b.load(); }});
    auto sds = [](const std::string& id) {
        DataMessage d;
        d.from = McId{"sip:dmr-2002@iwf.example"};
        d.to = DmrUnit{2001};
        d.message_id = id;
        d.payload = Bytes{1, 2, 3};
        return Event{d};
    };
    const LinkId mc{Side::Mc, "mcdata"};
    auto r1 = qa->accept(mc, "m1", sds("m1"));
    ASSERT_TRUE(r1.ok());
    EXPECT_EQ(*r1, StoreOutcome::Stored);
    // B, without the lease, may write nothing.
    auto rb = qb->accept(mc, "m2", sds("m2"));
    ASSERT_FALSE(rb.ok());
    EXPECT_EQ(rb.error().reason, "fenced");

    auto b = store("b");
    ASSERT_TRUE(waitFor(
        [&] {
            epoch_b = orElse(b->acquire(60s), 0);
            return epoch_b != 0;
        },
        10s, 50ms));
    EXPECT_EQ(epoch_b.load(), 2);
    // A (paused, now resumed) still believes in epoch 1: every write is refused.
    auto r3 = qa->accept(mc, "m3", sds("m3"));
    ASSERT_FALSE(r3.ok());
    EXPECT_EQ(r3.error().reason, "fenced");
    EXPECT_FALSE(qa->delivered("m1").ok());
    EXPECT_FALSE(qa->takePending(10, INT64_MAX, INT64_MAX).ok());
    // B takes A's pending message and marks it delivered.
    auto pending = qb->takePending(10, INT64_MAX, INT64_MAX);
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].message_id, "m1");
    EXPECT_TRUE(qb->delivered("m1").ok());
    EXPECT_TRUE(qb->takePending(10, INT64_MAX, INT64_MAX)->empty());
    // A's refused "m3" was never stored: B, the holder, stores it now as new.
    auto r4 = qb->accept(mc, "m3", sds("m3"));
    ASSERT_TRUE(r4.ok());
    EXPECT_EQ(*r4, StoreOutcome::Stored);
}

TEST(Fence, ForwardsUntilItsDeadlineOnTheLocalClock) {
    Fence f;
    EXPECT_FALSE(f.mayForward());
    f.allowUntil(boottimeNs() + std::chrono::nanoseconds(200ms).count());
    EXPECT_TRUE(f.mayForward());
    EXPECT_TRUE(waitFor([&] { return !f.mayForward(); }, 10s, 10ms));
    f.allowUntil(boottimeNs() + std::chrono::nanoseconds(60s).count());
    EXPECT_TRUE(f.mayForward());
    f.revoke();
    EXPECT_FALSE(f.mayForward());
}

}  // namespace
}  // namespace iwf::gateway::cluster
