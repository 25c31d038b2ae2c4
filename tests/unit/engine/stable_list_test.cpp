// StableList (a call's legs): elements never move when others are appended, inline or not;
// indices and iteration follow append order; an inline slot handed out is value-initialised.

#include "gateway/engine/stable_list.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iwf::gateway::engine::test {
namespace {

struct Item {
    int value = 0;
    std::string text;       // heap-owning member: a moved element would leave it elsewhere
    std::vector<int> data;  // idem
};

TEST(StableListTest, ReferencesSurviveAppendsPastTheInlineCapacity) {
    StableList<Item, 2> list;
    std::vector<Item*> addresses;
    std::vector<const char*> text_buffers;
    for (int i = 0; i < 40; ++i) {
        Item& it = list.emplace_back();
        it.value = i;
        it.text = "item number " + std::to_string(i) + " with a heap-allocated text";
        it.data.assign(static_cast<std::size_t>(i + 1), i);
        addresses.push_back(&it);
        text_buffers.push_back(it.text.data());
        // Every element appended so far is where it was, unchanged.
        for (int j = 0; j <= i; ++j) {
            const auto k = static_cast<std::size_t>(j);
            ASSERT_EQ(&list[k], addresses[k]) << "element " << j << " moved at append " << i;
            ASSERT_EQ(list[k].value, j);
            ASSERT_EQ(list[k].text.data(), text_buffers[k]);
            ASSERT_EQ(list[k].data.size(), k + 1);
        }
    }
    EXPECT_EQ(list.size(), 40u);
}

TEST(StableListTest, TheFirstElementsAreInsideTheListObject) {
    StableList<Item, 2> list;
    const auto* begin = reinterpret_cast<const char*>(&list);
    const auto* end = begin + sizeof(list);
    auto inside = [&](const Item& it) {
        const auto* p = reinterpret_cast<const char*>(&it);
        return p >= begin && p < end;
    };
    EXPECT_TRUE(inside(list.emplace_back()));
    EXPECT_TRUE(inside(list.emplace_back()));
    EXPECT_FALSE(inside(list.emplace_back()));
    EXPECT_EQ((StableList<Item, 2>::inlineCapacity()), 2u);
}

TEST(StableListTest, IterationFollowsAppendOrderMutableAndConst) {
    StableList<Item, 3> list;
    EXPECT_TRUE(list.empty());
    EXPECT_EQ(list.begin(), list.end());
    for (int i = 0; i < 7; ++i) {
        list.emplace_back().value = i * 10;
    }
    int expect = 0;
    for (Item& it : list) {
        EXPECT_EQ(it.value, expect * 10);
        it.value += 1;
        ++expect;
    }
    EXPECT_EQ(expect, 7);
    const StableList<Item, 3>& c = list;
    std::vector<int> seen;
    for (auto it = c.begin(); it != c.end(); ++it) {
        seen.push_back(it->value);
    }
    EXPECT_EQ(seen, (std::vector<int>{1, 11, 21, 31, 41, 51, 61}));
    EXPECT_FALSE(c.empty());
    EXPECT_EQ(c.size(), 7u);
}

TEST(StableListTest, AppendedElementsStartValueInitialised) {
    StableList<Item, 2> list;
    Item& a = list.emplace_back();
    EXPECT_EQ(a.value, 0);
    EXPECT_TRUE(a.text.empty());
    Item& b = list.emplace_back();
    b.value = 5;
    Item& c = list.emplace_back();  // heap node
    EXPECT_EQ(c.value, 0);
    EXPECT_TRUE(c.data.empty());
    EXPECT_EQ(list[1].value, 5);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
