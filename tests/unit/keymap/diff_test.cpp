#include "keymap/diff.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "example_util.hpp"

namespace iwf::keymap {
namespace {

TEST(KeymapDiff, SameKeymapHasNoChanges) {
    EXPECT_TRUE(diff(test::exampleKeymap(), test::exampleKeymap()).empty());
}

TEST(KeymapDiff, AddedRemovedChanged) {
    Keymap a = test::exampleKeymap();
    Keymap b = a;
    b.groups[1].mode = EncryptionMode::Mixed;
    b.users.pop_back();
    User n = b.users[0];
    n.mc_id.uri = "sip:new@iwf.example";
    n.unit = 4242;
    b.users.push_back(n);
    b.unknown_talker.uri = "sip:who@iwf.example";
    std::vector<Change> c = diff(a, b);
    EXPECT_EQ(diffSummary(c), "1 added, 2 changed, 1 removed");
    std::string text = renderDiff(c);
    EXPECT_NE(text.find("~ setting unknown_talker"), std::string::npos) << text;
    EXPECT_NE(text.find("+ user sip:new@iwf.example"), std::string::npos) << text;
    EXPECT_NE(text.find("- user sip:dmr-2008@iwf.example"), std::string::npos) << text;
    EXPECT_NE(text.find("~ group sip:police-tac@iwf.example: mode: \"secure\" -> \"mixed\""),
              std::string::npos)
        << text;
    nlohmann::json j = diffToJson(c);
    ASSERT_EQ(j.size(), 4u);
    EXPECT_EQ(j[0]["change"], "changed");
    EXPECT_EQ(j[0]["entity"], "setting");
}

TEST(KeymapDiff, FromEmptyEverythingIsAdded) {
    Keymap k = test::exampleKeymap();
    std::vector<Change> c = diff(Keymap{}, k);
    // 2 settings changed (unknown talker, adhoc default); 2 systems + 20 users + 5 groups + 1 rule
    // + 2 KMFs
    EXPECT_EQ(diffSummary(c), "30 added, 2 changed, 0 removed");
    Keymap moved = k;
    moved.kmfs[0].unit = 9999100;
    EXPECT_NE(renderDiff(diff(k, moved)).find("~ kmf sip:kmf@kmf.p25-north.example: unit"),
              std::string::npos)
        << renderDiff(diff(k, moved));
}

}  // namespace
}  // namespace iwf::keymap
