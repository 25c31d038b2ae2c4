// One suite, two back ends: SQLite file and a real PostgreSQL server.
#include "keymap/store.hpp"

#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "keymap/diff.hpp"
#include "keymap/validate.hpp"
#include "keymap/yaml_import.hpp"
#include "keymap_env.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::keymap {
namespace {

class StoreTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        if (GetParam() == "sqlite") {
            spec_ = "sqlite:" + dir_.file("keymap.db");
        } else {
            spec_ = test::freshPostgresDatabase();
            ASSERT_FALSE(spec_.empty());
        }
        store_ = openStore(spec_);
        example_ = parseKeymapYaml(test::exampleText(), "example.yaml");
        ASSERT_TRUE(validate(example_).empty());
    }

    iwf::test::TempDir dir_;
    std::string spec_;
    std::unique_ptr<Store> store_;
    Keymap example_;
};

TEST_P(StoreTest, EmptyStoreHasNoRevision) {
    EXPECT_EQ(store_->headRevision(), 0u);
    EXPECT_FALSE(store_->load().has_value());
    EXPECT_TRUE(store_->history(10).empty());
    EXPECT_FALSE(store_->revisionInfo(1).has_value());
}

TEST_P(StoreTest, ImportMakesRevisionsWithAuditRecords) {
    CommitResult r1 = store_->commit(example_, "alice", "import", "example.yaml");
    EXPECT_TRUE(r1.created);
    EXPECT_EQ(r1.revision, 1u);
    EXPECT_EQ(store_->headRevision(), 1u);
    std::optional<Keymap> back = store_->load();
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(toCanonicalString(*back), toCanonicalString(example_));

    // Same content again: no revision.
    CommitResult same = store_->commit(example_, "alice", "import", "again");
    EXPECT_FALSE(same.created);
    EXPECT_EQ(same.revision, 1u);
    EXPECT_EQ(store_->headRevision(), 1u);

    Keymap k2 = example_;
    k2.groups[0].key_id = 0x0102;
    for (auto& u : k2.users) {
        for (auto& a : u.authorised) {
            if (a.key_id == 0x0101) {
                a.key_id = 0x0102;
            }
        }
    }
    k2.groups[3].key_id = 0x0102;
    ASSERT_TRUE(validate(k2).empty()) << validate(k2).front().toString();
    CommitResult r2 = store_->commit(k2, "bob", "import", "rekey.yaml");
    EXPECT_TRUE(r2.created);
    EXPECT_EQ(r2.revision, 2u);

    std::vector<RevisionInfo> h = store_->history(10);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].revision, 2u);
    EXPECT_EQ(h[0].actor, "bob");
    EXPECT_EQ(h[0].action, "import");
    EXPECT_EQ(h[0].note, "rekey.yaml");
    EXPECT_EQ(h[0].summary, "0 added, 8 changed, 0 removed");
    EXPECT_NE(h[0].diff.find("~ group sip:fire-ops@iwf.example: key_id: 257 -> 258"),
              std::string::npos)
        << h[0].diff;
    EXPECT_GT(h[0].time_ms, 1'600'000'000'000);
    EXPECT_EQ(h[1].revision, 1u);
    EXPECT_EQ(h[1].actor, "alice");
    EXPECT_EQ(h[1].summary, "30 added, 2 changed, 0 removed");
    EXPECT_EQ(store_->history(1).size(), 1u);

    // Old revisions stay readable.
    EXPECT_EQ(toCanonicalString(*store_->load(1)), toCanonicalString(example_));
    EXPECT_EQ(toCanonicalString(*store_->load(2)), toCanonicalString(k2));
    EXPECT_FALSE(store_->load(3).has_value());
}

TEST_P(StoreTest, RollbackMakesANewRevisionEqualToAnOldOne) {
    ASSERT_EQ(store_->commit(example_, "a", "import", "1").revision, 1u);
    Keymap k2 = example_;
    k2.groups[4].display_name = "renamed";
    ASSERT_EQ(store_->commit(k2, "a", "import", "2").revision, 2u);
    CommitResult rb = store_->rollback(1, "carol");
    EXPECT_TRUE(rb.created);
    EXPECT_EQ(rb.revision, 3u);
    EXPECT_EQ(toCanonicalString(*store_->load()), toCanonicalString(example_));
    std::optional<RevisionInfo> info = store_->revisionInfo(3);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->action, "rollback");
    EXPECT_EQ(info->note, "to revision 1");
    EXPECT_EQ(info->actor, "carol");
    EXPECT_NE(info->diff.find("~ group sip:city-common@iwf.example: name: \"renamed\" -> "),
              std::string::npos)
        << info->diff;
    // Rolling back to what the head already is changes nothing.
    EXPECT_FALSE(store_->rollback(3, "carol").created);
    EXPECT_THROW(store_->rollback(99, "carol"), StoreError);
}

TEST_P(StoreTest, ReopenKeepsEverythingAndMigrationsAreIdempotent) {
    store_->commit(example_, "a", "import", "1");
    store_.reset();
    auto again = openStore(spec_);
    auto third = openStore(spec_);
    EXPECT_EQ(again->headRevision(), 1u);
    EXPECT_EQ(third->history(5).size(), 1u);
}

// Two writers at once (one importing, one importing and rolling back): every accepted commit
// gets its own revision; revisions are 1..N with no gap, no duplicate and none lost, and every
// stored diff is the diff against the revision just before it.
TEST_P(StoreTest, TwoWritersAtOnceNeverLoseAnUpdate) {
    ASSERT_EQ(store_->commit(example_, "setup", "import", "base").revision, 1u);
    constexpr int kPerWriter = 15;
    std::mutex mu;
    std::set<std::string> created_notes;
    int rollbacks_created = 0;
    std::vector<std::string> errors;
    auto writer = [&](const std::string& who, bool with_rollbacks) {
        try {
            auto s = openStore(spec_);
            for (int i = 0; i < kPerWriter; ++i) {
                if (with_rollbacks && i % 3 == 2) {
                    CommitResult r = s->rollback(1, who);
                    std::lock_guard<std::mutex> lk(mu);
                    rollbacks_created += r.created ? 1 : 0;
                    continue;
                }
                Keymap k = example_;
                k.groups[4].display_name = who + "-" + std::to_string(i);
                std::string note = who + "-" + std::to_string(i);
                CommitResult r = s->commit(k, who, "import", note);
                std::lock_guard<std::mutex> lk(mu);
                if (!r.created) {
                    errors.push_back("distinct content made no revision: " + note);
                }
                created_notes.insert(note);
            }
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lk(mu);
            errors.push_back(who + ": " + e.what());
        }
    };
    std::thread t1(writer, "w1", false);
    std::thread t2(writer, "w2", true);
    t1.join();
    t2.join();
    ASSERT_TRUE(errors.empty()) << errors.front();

    const std::uint64_t expected = 1 + created_notes.size() + rollbacks_created;
    EXPECT_EQ(store_->headRevision(), expected);
    std::vector<RevisionInfo> h = store_->history(1000);
    ASSERT_EQ(h.size(), expected);
    std::set<std::string> seen_notes;
    int seen_rollbacks = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        EXPECT_EQ(h[i].revision, expected - i) << "gap or duplicate";
        if (h[i].action == "rollback") {
            ++seen_rollbacks;
        } else if (h[i].revision != 1) {
            seen_notes.insert(h[i].note);
        }
        if (h[i].revision > 1) {
            Keymap before = *store_->load(h[i].revision - 1);
            Keymap after = *store_->load(h[i].revision);
            std::vector<Change> c = diff(before, after);
            EXPECT_FALSE(c.empty()) << "revision " << h[i].revision << " changed nothing";
            EXPECT_EQ(h[i].diff, renderDiff(c)) << "revision " << h[i].revision;
        }
    }
    EXPECT_EQ(seen_notes, created_notes);
    EXPECT_EQ(seen_rollbacks, rollbacks_created);
    EXPECT_EQ(created_notes.size(), static_cast<std::size_t>(kPerWriter + kPerWriter * 2 / 3));
}

TEST(PostgresNotify, ACommitWakesAListener) {
    std::string url = test::freshPostgresDatabase();
    ASSERT_FALSE(url.empty());
    auto listener = openStore(url);
    auto writer = openStore(url);
    ASSERT_TRUE(listener->supportsNotify());
    EXPECT_FALSE(listener->waitForChange(std::chrono::milliseconds(50)));  // starts LISTEN
    Keymap k = parseKeymapYaml(test::exampleText(), "example.yaml");
    writer->commit(k, "w", "import", "x");
    bool woke =
        iwf::test::waitFor([&] { return listener->waitForChange(std::chrono::milliseconds(100)); },
                           std::chrono::seconds(10));
    EXPECT_TRUE(woke);
    EXPECT_EQ(listener->headRevision(), 1u);
    // No further notification without a commit.
    EXPECT_FALSE(listener->waitForChange(std::chrono::milliseconds(100)));
}

TEST(StoreSpec, BadSpecsAreRefusedAndPasswordsRedacted) {
    EXPECT_THROW(openStore("mysql://x"), StoreError);
    EXPECT_THROW(openStore("sqlite:"), StoreError);
    EXPECT_THROW(openStore("sqlite:/nonexistent-dir/x/keymap.db"), StoreError);
    EXPECT_EQ(redactStoreSpec("postgresql://iwf:s3cret@db.example:5432/keymap"),
              "postgresql://iwf:***@db.example:5432/keymap");
    EXPECT_EQ(redactStoreSpec("sqlite:/var/lib/k.db"), "sqlite:/var/lib/k.db");
    try {
        openStore("postgresql://iwf:s3cret@127.0.0.1:1/keymap?connect_timeout=2");
        ADD_FAILURE() << "connected to port 1?";
    } catch (const StoreError& e) {
        EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace iwf::keymap
