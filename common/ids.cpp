#include "common/ids.hpp"

#include <fmt/format.h>

namespace iwf {

bool fitsBits(std::uint64_t value, unsigned bits) {
    return bits >= 64 || value < (std::uint64_t{1} << bits);
}

bool valid(const P25System& s) {
    return fitsBits(s.wacn, 20) && fitsBits(s.system, 12);
}
bool valid(const P25Unit& u) {
    return valid(u.sys) && fitsBits(u.unit, 24);
}
bool valid(const P25Group& g) {
    return valid(g.sys);
}
bool valid(const DmrUnit& u) {
    return fitsBits(u.id, 24);
}
bool valid(const DmrGroup& g) {
    return fitsBits(g.id, 24);
}

bool isGroup(const Address& a) {
    return std::holds_alternative<P25Group>(a) || std::holds_alternative<DmrGroup>(a) ||
           std::holds_alternative<McGroupId>(a) || std::holds_alternative<AnalogGroup>(a) ||
           (std::holds_alternative<TetraSubscriber>(a) && std::get<TetraSubscriber>(a).group);
}

std::optional<LmrFamily> familyOf(const Address& a) {
    if (std::holds_alternative<P25Unit>(a) || std::holds_alternative<P25Group>(a)) {
        return LmrFamily::P25;
    }
    if (std::holds_alternative<DmrUnit>(a) || std::holds_alternative<DmrGroup>(a)) {
        return LmrFamily::Dmr;
    }
    if (std::holds_alternative<TetraSubscriber>(a)) {
        return LmrFamily::Tetra;
    }
    if (std::holds_alternative<AnalogGroup>(a)) {
        return LmrFamily::Analog;
    }
    return std::nullopt;
}

std::string toString(LmrFamily f) {
    return std::string(familyName(f));
}

std::string_view familyName(LmrFamily f) {
    switch (f) {
        case LmrFamily::P25:
            return "p25";
        case LmrFamily::Dmr:
            return "dmr";
        case LmrFamily::Tetra:
            return "tetra";
        case LmrFamily::Analog:
            return "analog";
    }
    return "unknown";
}

namespace {
struct AddressPrinter {
    std::string operator()(std::monostate) const { return "unknown"; }
    std::string operator()(const P25Unit& u) const {
        return fmt::format("p25:unit:{:05X}.{:03X}.{:06X}", u.sys.wacn, u.sys.system, u.unit);
    }
    std::string operator()(const P25Group& g) const {
        return fmt::format("p25:group:{:05X}.{:03X}.{:04X}", g.sys.wacn, g.sys.system, g.tgid);
    }
    std::string operator()(const DmrUnit& u) const { return fmt::format("dmr:unit:{}", u.id); }
    std::string operator()(const DmrGroup& g) const { return fmt::format("dmr:group:{}", g.id); }
    std::string operator()(const TetraSubscriber& t) const {
        return fmt::format("tetra:{}:{}.{}.{}", t.group ? "group" : "unit", t.mcc, t.mnc, t.ssi);
    }
    std::string operator()(const McId& m) const { return "mc:" + m.uri; }
    std::string operator()(const McGroupId& g) const { return "mcgroup:" + g.uri; }
    std::string operator()(const AnalogGroup& g) const {
        return fmt::format("analog:group:{}", g.talkgroup);
    }
};
}  // namespace

std::string toString(const Address& a) {
    return std::visit(AddressPrinter{}, a);
}

}  // namespace iwf
