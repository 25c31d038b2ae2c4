#include "harness/scenario/scenario.hpp"

namespace iwf::harness {

namespace {

LmrFamily familyOf(const ConfigNode& n, std::string_view key) {
    const std::string f = n.getEnum(key, {"p25", "dmr"});
    return f == "p25" ? LmrFamily::P25 : LmrFamily::Dmr;
}

StepAction actionOf(const ConfigNode& n) {
    const std::string a = n.getEnum(
        "action", {"talk", "press", "sds", "kmm", "keymap_update", "wait_for", "failover", "gmk"});
    if (a == "talk") {
        return StepAction::Talk;
    }
    if (a == "press") {
        return StepAction::Press;
    }
    if (a == "sds") {
        return StepAction::Sds;
    }
    if (a == "kmm") {
        return StepAction::Kmm;
    }
    if (a == "wait_for") {
        return StepAction::WaitFor;
    }
    if (a == "failover") {
        return StepAction::Failover;
    }
    if (a == "gmk") {
        return StepAction::Gmk;
    }
    return StepAction::KeymapUpdate;
}

std::vector<std::string> stringList(const ConfigNode& n, std::string_view key) {
    std::vector<std::string> out;
    for (const auto& item : n.optionalList(key)) {
        out.push_back(item.asString());
    }
    return out;
}

// The `expect` map of a step (absent: granted, no receivers).
ScenarioExpect parseExpect(const ConfigNode& st, const Scenario& s) {
    ScenarioExpect x;
    if (auto e = st.optionalChild("expect")) {
        e->expectKeys(
            {"outcome", "reason", "receivers", "call_state", "report_wait", "report_loss"});
        x.outcome = e->getEnum(
            "outcome", {"granted", "denied", "queued", "preempted", "delivered", "srtp_refused"},
            "granted");
        x.reason = e->getString("reason", "");
        x.receivers = stringList(*e, "receivers");
        if (e->has("call_state")) {
            x.call_state = e->getEnum("call_state", {"encrypted", "clear"});
        }
        x.report_wait = e->getBool("report_wait", false);
        x.report_loss = e->getBool("report_loss", false);
        for (const auto& r : x.receivers) {
            if (s.client(r) == nullptr && s.radio(r) == nullptr) {
                e->fail("receivers", "unknown receiver '" + r + "'");
            }
        }
        if (x.outcome == "denied" && x.reason.empty()) {
            e->fail("reason", "a denied outcome must name the expected reason");
        }
    }
    return x;
}

// One entry of `steps`; references (who, group, key, to, after) are checked against `s` and
// the steps before it.
ScenarioStep parseStep(const ConfigNode& st, const Scenario& s) {
    st.expectKeys({"at",      "who",         "action",    "group",   "to",        "encrypted",
                   "key",     "superframes", "priority",  "loss",    "loss_seed", "text",
                   "new_key", "late_client", "join_late", "expect",  "after",     "metric",
                   "labels",  "at_least",    "at_most",   "timeout", "mc_keys",   "activation"});
    ScenarioStep step;
    if (st.has("after")) {
        const auto after = st.getInt(
            "after", 0, std::max<std::int64_t>(0, static_cast<std::int64_t>(s.steps.size()) - 1));
        if (s.steps.empty()) {
            st.fail("after", "the first step cannot run after another");
        }
        step.after = static_cast<std::size_t>(after);
        step.at = st.getDuration("at", std::chrono::milliseconds(0));
    } else {
        step.at = st.getDuration("at");
    }
    step.action = actionOf(st);
    const bool anonymous = step.action == StepAction::KeymapUpdate ||
                           step.action == StepAction::WaitFor ||
                           step.action == StepAction::Failover || step.action == StepAction::Gmk;
    step.who = anonymous ? st.getString("who", "") : st.getString("who");
    step.group = st.getString("group", "");
    step.to = st.getString("to", "");
    step.encrypted = st.getBool("encrypted", true);
    step.key = st.getString("key", "");
    step.superframes = static_cast<std::uint32_t>(st.getInt("superframes", 1, 1000, 3));
    step.priority = st.getEnum("priority", {"normal", "emergency", "imminent_peril"}, "normal");
    step.loss = static_cast<double>(st.getInt("loss", 0, 50, 0)) / 100.0;
    step.loss_seed = static_cast<std::uint64_t>(st.getInt("loss_seed", 0, 1LL << 40, 1));
    step.text = st.getString("text", "");
    step.new_key = st.getString("new_key", "");
    step.late_client = st.getString("late_client", "");
    step.join_late = st.getDuration("join_late", std::chrono::milliseconds(0));
    if (step.action == StepAction::WaitFor) {
        step.metric = st.getString("metric");
        step.labels = stringList(st, "labels");
        if (st.has("at_least")) {
            step.at_least = static_cast<double>(st.getInt("at_least", 0, 1LL << 40));
        }
        if (st.has("at_most")) {
            step.at_most = static_cast<double>(st.getInt("at_most", 0, 1LL << 40));
        }
        if (!step.at_least && !step.at_most) {
            st.fail("at_least", "wait_for needs at_least or at_most");
        }
        step.timeout = st.getDuration("timeout", std::chrono::seconds(10));
    }
    if (step.action == StepAction::Failover) {
        if (!s.cluster) {
            st.fail("action", "failover needs a `cluster` section (two iwfd instances)");
        }
        for (const auto& earlier : s.steps) {
            if (earlier.action == StepAction::Failover) {
                st.fail("action", "one failover per run (the harness restarts no instance)");
            }
        }
        step.timeout = st.getDuration("timeout", std::chrono::seconds(10));  // the takeover
    }

    if (step.action == StepAction::Gmk) {
        parseGmkStep(st, s, step);
    }
    if (!anonymous && s.radio(step.who) == nullptr && s.client(step.who) == nullptr) {
        st.fail("who", "unknown radio or client '" + step.who + "'");
    }
    if (!step.group.empty() && s.group(step.group) == nullptr) {
        st.fail("group", "unknown group '" + step.group + "'");
    }
    if ((step.action == StepAction::Talk || step.action == StepAction::Press ||
         step.action == StepAction::KeymapUpdate) &&
        step.group.empty()) {
        st.fail("group", "this action needs a group");
    }
    if (step.encrypted && step.action == StepAction::Talk) {
        if (step.key.empty()) {
            if (const auto* g = s.group(step.group); g != nullptr) {
                step.key = g->key;
            }
        }
        if (s.key(step.key) == nullptr) {
            st.fail("key", "an encrypted transmission needs a known key");
        }
    }
    if (step.action == StepAction::KeymapUpdate && s.key(step.new_key) == nullptr) {
        st.fail("new_key", "unknown key '" + step.new_key + "'");
    }
    if ((step.action == StepAction::Sds || step.action == StepAction::Kmm) &&
        s.radio(step.to) == nullptr && s.client(step.to) == nullptr) {
        st.fail("to", "unknown radio or client '" + step.to + "'");
    }
    if (!step.late_client.empty() && s.client(step.late_client) == nullptr) {
        st.fail("late_client", "unknown client '" + step.late_client + "'");
    }
    step.expect = parseExpect(st, s);
    return step;
}

}  // namespace

std::string toString(StepAction a) {
    switch (a) {
        case StepAction::Talk:
            return "talk";
        case StepAction::Press:
            return "press";
        case StepAction::Sds:
            return "sds";
        case StepAction::Kmm:
            return "kmm";
        case StepAction::KeymapUpdate:
            return "keymap_update";
        case StepAction::WaitFor:
            return "wait_for";
        case StepAction::Failover:
            return "failover";
        case StepAction::Gmk:
            return "gmk";
    }
    return "?";
}

const ScenarioKey* Scenario::key(const std::string& n) const {
    for (const auto& k : keys) {
        if (k.name == n) {
            return &k;
        }
    }
    return nullptr;
}
const ScenarioGroup* Scenario::group(const std::string& g) const {
    for (const auto& x : groups) {
        if (x.mc_group == g) {
            return &x;
        }
    }
    return nullptr;
}
const ScenarioRadio* Scenario::radio(const std::string& n) const {
    for (const auto& x : radios) {
        if (x.name == n) {
            return &x;
        }
    }
    return nullptr;
}
const ScenarioClient* Scenario::client(const std::string& n) const {
    for (const auto& x : clients) {
        if (x.name == n) {
            return &x;
        }
    }
    return nullptr;
}

Scenario parseScenario(const ConfigNode& root) {
    root.expectKeys({"scenario", "description", "keys", "groups", "radios", "clients", "steps",
                     "cluster", "media_protection"});
    Scenario s;
    s.file = root.file();
    s.name = root.getString("scenario");
    s.description = root.getString("description", "");

    for (const auto& k : root.optionalList("keys")) {
        k.expectKeys({"name", "family", "algid", "key_id", "key"});
        ScenarioKey key;
        key.name = k.getString("name");
        key.family = familyOf(k, "family");
        if (key.family == LmrFamily::P25) {
            key.algid = static_cast<std::uint16_t>(k.getInt("algid", 0, 0xFF));
            key.key_id = static_cast<std::uint32_t>(k.getInt("key_id", 1, 0xFFFF));
            if (key.algid != kP25AlgidAes256) {
                k.fail("algid", "the harness encrypts P25 with AES-256 only (0x84)");
            }
        } else {
            key.algid = static_cast<std::uint16_t>(k.getInt("algid", 0, 7));
            key.key_id = static_cast<std::uint32_t>(k.getInt("key_id", 1, 0xFF));
            if (key.algid != 5) {
                k.fail("algid", "the harness encrypts DMR with AES-256 only (ALGID 5)");
            }
        }
        auto bytes = fromHex(k.getString("key"));
        if (!bytes.ok() || bytes->size() != key.key.size()) {
            k.fail("key", "must be 64 hex digits (AES-256)");
        }
        std::copy(bytes->begin(), bytes->end(), key.key.begin());
        if (s.key(key.name) != nullptr) {
            k.fail("name", "duplicate key name '" + key.name + "'");
        }
        s.keys.push_back(key);
    }

    for (const auto& g : root.list("groups")) {
        g.expectKeys({"mc_group", "family", "lmr_group", "home", "mode", "key"});
        ScenarioGroup grp;
        grp.mc_group = g.getString("mc_group");
        grp.family = familyOf(g, "family");
        grp.lmr_group = static_cast<std::uint32_t>(
            g.getInt("lmr_group", 1, grp.family == LmrFamily::P25 ? 0xFFFF : 0xFFFFFF));
        grp.home = g.getEnum("home", {"lmr", "mc"}, "lmr");
        grp.mode = g.getEnum("mode", {"secure", "clear", "mixed"});
        grp.key = g.getString("key", "");
        if (grp.mode != "clear") {
            const ScenarioKey* k = s.key(grp.key);
            if (k == nullptr) {
                g.fail("key", "unknown key '" + grp.key + "' (a secure or mixed group needs one)");
            }
            if (k->family != grp.family) {
                g.fail("key", "key '" + grp.key + "' is for another LMR family");
            }
        }
        s.groups.push_back(grp);
    }

    for (const auto& r : root.list("radios")) {
        r.expectKeys({"name", "family", "unit", "mc_id"});
        ScenarioRadio radio;
        radio.name = r.getString("name");
        radio.family = familyOf(r, "family");
        radio.unit = static_cast<std::uint32_t>(r.getInt("unit", 1, 0xFFFFFF));
        radio.mc_id = r.getString("mc_id");
        s.radios.push_back(radio);
    }

    for (const auto& c : root.list("clients")) {
        c.expectKeys({"name", "mc_id", "groups", "keys"});
        ScenarioClient cl;
        cl.name = c.getString("name");
        cl.mc_id = c.getString("mc_id");
        cl.groups = stringList(c, "groups");
        cl.keys = stringList(c, "keys");
        for (const auto& g : cl.groups) {
            if (s.group(g) == nullptr) {
                c.fail("groups", "unknown group '" + g + "'");
            }
        }
        for (const auto& k : cl.keys) {
            if (s.key(k) == nullptr) {
                c.fail("keys", "unknown key '" + k + "'");
            }
        }
        s.clients.push_back(cl);
    }

    s.cluster = parseScenarioCluster(root);
    s.media_protection = parseScenarioMediaProtection(root, s);
    for (const auto& st : root.list("steps")) {
        s.steps.push_back(parseStep(st, s));
    }
    return s;
}

Scenario loadScenario(const std::string& path) {
    return parseScenario(ConfigNode::loadFile(path));
}

}  // namespace iwf::harness
