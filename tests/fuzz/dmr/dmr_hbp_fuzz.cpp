// HBP control messages: decode, and for every message that decodes, encode -> decode again
// must give the same type and peer ID. RPTO text goes through the options parser, DMRA
// through both peer shapes and the talker alias assembler (never trusted input).
#include <cstdint>
#include <cstdlib>

#include "lmr_adapters/dmr/hbp.hpp"
#include "lmr_adapters/dmr/talker_alias.hpp"

using namespace iwf;
using namespace iwf::lmr::dmr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = decodeHbp(ByteView(data, size));
    if (!m.ok() || m->type == HbpType::Dmrd) {
        return 0;
    }
    if (m->type == HbpType::Rpto) {
        auto o = parseRptoOptions(m->text);
        (void)o.allows(1, 91);
        (void)o.allows(2, 0xFFFFFF);
    }
    if (m->type == HbpType::Dmra) {
        for (std::uint32_t id : {m->peer_id, 0U}) {
            if (auto f = parseDmra(ByteView(data, size), id); f && f->data.size() == 7) {
                TalkerAliasAssembler ta;
                if (auto alias = ta.feed(f->block, f->data);
                    alias && alias->size() > 4 * kTalkerAliasMaxChars) {
                    std::abort();  // at most 31 characters of at most 4 bytes
                }
            }
        }
    }
    auto again = decodeHbp(encodeHbp(*m));
    if (!again.ok() || again->type != m->type || again->peer_id != m->peer_id) {
        std::abort();
    }
    return 0;
}
