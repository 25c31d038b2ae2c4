// The durable message store (common/message_store.hpp, durable/) on a real SQLite file and a
// real PostgreSQL server: a message is there after the store is closed and opened again (what
// a restart does), a retransmission is a duplicate, delivered messages are not handed out
// again, pending ones are (oldest first, counted), and a message tried too often is failed.
#include "durable/message_store.hpp"

#include <limits>

#include <gtest/gtest.h>

#include "durable/event_json.hpp"
#include "keymap_env.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::durable {
namespace {

class MessageStoreBackends : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        spec_ = GetParam() == "sqlite" ? "sqlite:" + dir_.file("messages.db")
                                       : keymap::test::freshPostgresDatabase();
        ASSERT_FALSE(spec_.empty());
    }
    std::unique_ptr<MessageStore> open(const std::string& owner = "iwf-a") {
        return openMessageStore(spec_, owner);
    }
    iwf::test::TempDir dir_;
    std::string spec_;
};

constexpr std::int64_t kAll = std::numeric_limits<std::int64_t>::max();

DataMessage sds(const std::string& id, std::uint8_t tag) {
    DataMessage d;
    d.from = McId{"sip:dmr-2002@iwf.example"};
    d.to = DmrUnit{2001};
    d.message_id = id;
    d.payload = {0x00, tag, 0xE2, 0xFF};
    CryptoSync c;
    c.family = LmrFamily::Dmr;
    c.encrypted = true;
    c.algid = 5;
    c.key_id = 0x21;
    const std::uint8_t mi[4] = {1, 2, 3, 4};
    c.mi = InlineBytes<16>(ByteView(mi, 4));
    d.crypto = c;
    d.origin_note = "sds-notify conv=c0000000-0000-0000-0000-000000000000 app=-";
    return d;
}

TEST_P(MessageStoreBackends, AcceptedMessagesSurviveAReopenAndAreDeliveredOnce) {
    const LinkId mc{Side::Mc, "mcdata"};
    const LinkId lmr{Side::Lmr, "dmr"};
    {
        auto s = open();
        EXPECT_EQ(*s->accept(mc, "m1", Event{sds("m1", 1)}), StoreOutcome::Stored);
        EXPECT_EQ(*s->accept(mc, "m2", Event{sds("m2", 2)}), StoreOutcome::Stored);
        // A retransmission (same link, same ID) is a duplicate.
        EXPECT_EQ(*s->accept(mc, "m1", Event{sds("m1", 1)}), StoreOutcome::Duplicate);
        SecurityMessage k;
        k.from = DmrUnit{2001};
        k.to = DmrUnit{9000};
        k.payload = {0xAA, 0xBB};
        EXPECT_EQ(*s->accept(lmr, kmmMessageId(k), Event{k}), StoreOutcome::Stored);
        ASSERT_TRUE(s->delivered("m2").ok());
    }  // closed: the process is gone
    auto s = open();
    auto p = s->takePending(3, kAll, kAll);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->size(), 2u);
    EXPECT_EQ((*p)[0].message_id, "m1");
    EXPECT_EQ((*p)[0].from, mc);
    EXPECT_EQ((*p)[0].attempts, 1);
    const auto& d = std::get<DataMessage>((*p)[0].event);
    EXPECT_EQ(eventToJson(Event{d}), eventToJson(Event{sds("m1", 1)}));  // read back equal
    EXPECT_EQ(d.origin_note, sds("m1", 1).origin_note);  // the link's note survives a restart
    EXPECT_EQ((*p)[1].from, lmr);
    EXPECT_TRUE(std::holds_alternative<SecurityMessage>((*p)[1].event));
    // Not tried again before retry_before_ms passes the last try.
    EXPECT_TRUE(s->takePending(3, 0, 0)->empty());
    ASSERT_TRUE(s->delivered("m1").ok());
    auto p2 = s->takePending(3, kAll, kAll);
    ASSERT_EQ(p2->size(), 1u);
    EXPECT_EQ((*p2)[0].attempts, 2);
}

TEST_P(MessageStoreBackends, OnlyTheOwnersMessagesAndFailedAfterMaxAttempts) {
    const LinkId mc{Side::Mc, "mcdata"};
    auto a = open("iwf-a");
    auto b = open("iwf-b");
    ASSERT_EQ(*a->accept(mc, "x", Event{sds("x", 7)}), StoreOutcome::Stored);
    EXPECT_TRUE(b->takePending(3, kAll, kAll)->empty());
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(a->takePending(2, kAll, kAll)->size(), 1u);
    }
    // Tried twice with max_attempts 2: failed, never handed out again.
    EXPECT_TRUE(a->takePending(2, kAll, kAll)->empty());
    EXPECT_TRUE(a->takePending(10, kAll, kAll)->empty());
}

TEST(MessageStore, AnUnwritableStoreIsRefusedNamingIt) {
    try {
        openMessageStore("sqlite:/nonexistent-dir/x/messages.db", "iwf");
        ADD_FAILURE() << "opened";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("sqlite:/nonexistent-dir/x/messages.db"),
                  std::string::npos)
            << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, MessageStoreBackends, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace iwf::durable
