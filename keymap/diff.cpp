#include "keymap/diff.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace iwf::keymap {

using nlohmann::json;

namespace {

using Entries = std::vector<std::pair<std::string, json>>;  // id -> entry, in file order

void diffEntries(const std::string& entity, const Entries& a, const Entries& b,
                 std::vector<Change>& out) {
    std::map<std::string, const json*> old_by_id;
    for (const auto& [id, j] : a) {
        old_by_id.emplace(id, &j);
    }
    std::map<std::string, bool> seen;
    for (const auto& [id, j] : b) {
        seen[id] = true;
        auto it = old_by_id.find(id);
        if (it == old_by_id.end()) {
            out.push_back({Change::Kind::Added, entity, id, {}});
            continue;
        }
        const json& o = *it->second;
        if (o == j) {
            continue;
        }
        Change c{Change::Kind::Changed, entity, id, {}};
        std::map<std::string, bool> keys;
        for (const auto& [k, v] : o.items()) {
            keys[k] = true;
        }
        for (const auto& [k, v] : j.items()) {
            keys[k] = true;
        }
        for (const auto& [k, unused] : keys) {
            json ov = o.contains(k) ? o.at(k) : json();
            json nv = j.contains(k) ? j.at(k) : json();
            if (ov != nv) {
                c.fields.push_back(fmt::format("{}: {} -> {}", k, ov.dump(), nv.dump()));
            }
        }
        out.push_back(std::move(c));
    }
    for (const auto& [id, j] : a) {
        if (!seen.count(id)) {
            out.push_back({Change::Kind::Removed, entity, id, {}});
        }
    }
}

}  // namespace

std::vector<Change> diff(const Keymap& from, const Keymap& to) {
    std::vector<Change> out;
    auto setting = [&](const std::string& name, const std::string& a, const std::string& b) {
        if (a != b) {
            out.push_back({Change::Kind::Changed,
                           "setting",
                           name,
                           {fmt::format("{}: {} -> {}", name, json(a).dump(), json(b).dump())}});
        }
    };
    setting("unknown_talker", from.unknown_talker.uri, to.unknown_talker.uri);
    setting("adhoc.default", from.adhoc_default.uri, to.adhoc_default.uri);
    auto collect = [](const auto& vec, auto idOf) {
        Entries e;
        e.reserve(vec.size());
        for (const auto& x : vec) {
            e.emplace_back(idOf(x), toJson(x));
        }
        return e;
    };
    diffEntries("system", collect(from.systems, [](const LmrSystem& s) { return s.id; }),
                collect(to.systems, [](const LmrSystem& s) { return s.id; }), out);
    diffEntries("user", collect(from.users, [](const User& u) { return u.mc_id.uri; }),
                collect(to.users, [](const User& u) { return u.mc_id.uri; }), out);
    diffEntries("group", collect(from.groups, [](const Group& g) { return g.mc_group.uri; }),
                collect(to.groups, [](const Group& g) { return g.mc_group.uri; }), out);
    diffEntries("adhoc_rule", collect(from.adhoc_rules, [](const AdhocRule& r) { return r.id; }),
                collect(to.adhoc_rules, [](const AdhocRule& r) { return r.id; }), out);
    diffEntries("kmf", collect(from.kmfs, [](const Kmf& f) { return f.uri; }),
                collect(to.kmfs, [](const Kmf& f) { return f.uri; }), out);
    return out;
}

std::string renderDiff(const std::vector<Change>& changes) {
    std::string s;
    for (const auto& c : changes) {
        char sign = c.kind == Change::Kind::Added     ? '+'
                    : c.kind == Change::Kind::Removed ? '-'
                                                      : '~';
        s += fmt::format("{} {} {}", sign, c.entity, c.id);
        if (!c.fields.empty()) {
            s += ": ";
            for (std::size_t i = 0; i < c.fields.size(); ++i) {
                s += (i ? "; " : "") + c.fields[i];
            }
        }
        s += "\n";
    }
    return s;
}

json diffToJson(const std::vector<Change>& changes) {
    json a = json::array();
    for (const auto& c : changes) {
        a.push_back({{"change", c.kind == Change::Kind::Added     ? "added"
                                : c.kind == Change::Kind::Removed ? "removed"
                                                                  : "changed"},
                     {"entity", c.entity},
                     {"id", c.id},
                     {"fields", c.fields}});
    }
    return a;
}

std::string diffSummary(const std::vector<Change>& changes) {
    int add = 0, chg = 0, rem = 0;
    for (const auto& c : changes) {
        (c.kind == Change::Kind::Added ? add : c.kind == Change::Kind::Removed ? rem : chg)++;
    }
    return fmt::format("{} added, {} changed, {} removed", add, chg, rem);
}

}  // namespace iwf::keymap
