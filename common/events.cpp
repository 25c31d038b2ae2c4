#include "common/events.hpp"

namespace iwf {

std::string_view toString(CallKind k) {
    return k == CallKind::Group ? "group" : "private";
}

std::string_view toString(CallPriority p) {
    switch (p) {
        case CallPriority::Normal:
            return "normal";
        case CallPriority::ImminentPeril:
            return "imminent-peril";
        case CallPriority::Emergency:
            return "emergency";
    }
    return "unknown";
}

std::string_view toString(EndReason r) {
    switch (r) {
        case EndReason::Normal:
            return "normal";
        case EndReason::Timeout:
            return "timeout";
        case EndReason::Refused:
            return "refused";
        case EndReason::LinkDown:
            return "link-down";
        case EndReason::Cancelled:
            return "cancelled";
        case EndReason::Error:
            return "error";
    }
    return "unknown";
}

namespace {
struct EventNamer {
    std::string_view operator()(const CallSetup&) const { return "call-setup"; }
    std::string_view operator()(const CallEnd&) const { return "call-end"; }
    std::string_view operator()(const Voice&) const { return "voice"; }
    std::string_view operator()(const FloorRequest&) const { return "floor-request"; }
    std::string_view operator()(const FloorGranted&) const { return "floor-granted"; }
    std::string_view operator()(const FloorTaken&) const { return "floor-taken"; }
    std::string_view operator()(const FloorDeny&) const { return "floor-deny"; }
    std::string_view operator()(const FloorRelease&) const { return "floor-release"; }
    std::string_view operator()(const FloorIdle&) const { return "floor-idle"; }
    std::string_view operator()(const FloorRevoke&) const { return "floor-revoke"; }
    std::string_view operator()(const FloorQueued&) const { return "floor-queued"; }
    std::string_view operator()(const DataMessage&) const { return "data"; }
    std::string_view operator()(const SecurityMessage&) const { return "security-message"; }
};
}  // namespace

std::string_view eventName(const Event& e) {
    return std::visit(EventNamer{}, e);
}

}  // namespace iwf
