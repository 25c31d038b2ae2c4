-- Wireshark dissector: OpenIWF's "X-IWF-LMR" RTP payload (IWF-1 media, version 1): one LMR
-- voice frame per RTP packet with its superframe position and crypto sync (ALGID, key ID,
-- MI/IV), the vocoder bits and side bytes opaque (they may be encrypted).
--
-- Part of OpenIWF (tools/wireshark/, README.md there). The format is OpenIWF's own; every
-- field is defined in docs/protocols/iwf-1-media.md ("Payload" table), which this follows.
--
-- Registration: by encoding name (an SDP "a=rtpmap:<pt> X-IWF-LMR/8000" seen by Wireshark's
-- SDP dissector binds the RTP stream to this dissector) and by the RTP payload type in the
-- preference "iwflmr.payload_type" (default 96, iwfd's default; 0 = only by name). For RTP on
-- ports no SDP announced, enable Wireshark's RTP heuristic (-o rtp.heuristic_rtp:TRUE) or
-- "Decode As" RTP.

local bit = bit32

local p = Proto("iwflmr", "OpenIWF LMR voice payload (X-IWF-LMR)")

local FAMILY = {[0] = "P25", [1] = "DMR", [2] = "TETRA", [3] = "analogue"}
local CODEC = {[0] = "IMBE full rate", [1] = "AMBE+2 half rate", [2] = "DMR AMBE+2",
               [3] = "TETRA ACELP", [4] = "PCM"}
-- Widths per family: docs/protocols/iwf-1-media.md (common/crypto.hpp cryptoWidths):
-- ALGID bits, key ID bits, MI bytes, highest frame index.
local WIDTHS = {[0] = {8, 16, 9, 17}, [1] = {3, 8, 4, 5}, [2] = {10, 20, 16, 255},
                [3] = {16, 32, 16, 255}}

local f = {
    version = ProtoField.uint8("iwflmr.version", "Version", base.DEC, nil, 0xC0),
    encrypted = ProtoField.bool("iwflmr.encrypted", "Encrypted (E)", 8, nil, 0x20),
    reserved = ProtoField.uint8("iwflmr.reserved", "Reserved", base.HEX, nil, 0x1F),
    family = ProtoField.uint8("iwflmr.family", "LMR family", base.DEC, FAMILY),
    codec = ProtoField.uint8("iwflmr.codec", "Codec", base.DEC, CODEC),
    index = ProtoField.uint8("iwflmr.index", "Frame index in the superframe"),
    superframe = ProtoField.uint32("iwflmr.superframe", "Superframe"),
    algid = ProtoField.uint16("iwflmr.algid", "ALGID", base.HEX),
    key_id = ProtoField.uint32("iwflmr.key_id", "Key ID", base.HEX),
    mi_len = ProtoField.uint8("iwflmr.mi_len", "MI/IV length (m)"),
    payload_len = ProtoField.uint8("iwflmr.payload_len", "Vocoder payload length (p)"),
    side_len = ProtoField.uint8("iwflmr.side_len", "Side bytes length (s)"),
    mi = ProtoField.bytes("iwflmr.mi", "MI / IV"),
    payload = ProtoField.bytes("iwflmr.payload", "Vocoder bits (opaque)"),
    side = ProtoField.bytes("iwflmr.side", "Side bytes (opaque LC/ES/LSD or EMB)"),
}
local fl = {}
for _, v in pairs(f) do fl[#fl + 1] = v end
p.fields = fl

local e_bad = ProtoExpert.new("iwflmr.malformed", "X-IWF-LMR payload refused by the format",
                              expert.group.MALFORMED, expert.severity.ERROR)
p.experts = {e_bad}

p.prefs.payload_type = Pref.uint("RTP payload type", 96,
                                 "Dynamic payload type of X-IWF-LMR (0: only by SDP name)")

function p.dissector(tvb, pinfo, tree)
    local n = tvb:len()
    pinfo.cols.protocol = "X-IWF-LMR"
    local t = tree:add(p, tvb())
    if n < 17 then
        t:add_proto_expert_info(e_bad, "truncated: " .. n .. " bytes, header is 17")
        return n
    end
    local b0 = tvb:range(0, 1):uint()
    t:add(f.version, tvb:range(0, 1))
    t:add(f.encrypted, tvb:range(0, 1))
    t:add(f.reserved, tvb:range(0, 1))
    local fam = tvb:range(1, 1):uint()
    t:add(f.family, tvb:range(1, 1))
    t:add(f.codec, tvb:range(2, 1))
    t:add(f.index, tvb:range(3, 1))
    t:add(f.superframe, tvb:range(4, 4))
    t:add(f.algid, tvb:range(8, 2))
    t:add(f.key_id, tvb:range(10, 4))
    local m, pl, s = tvb:range(14, 1):uint(), tvb:range(15, 1):uint(), tvb:range(16, 1):uint()
    t:add(f.mi_len, tvb:range(14, 1))
    t:add(f.payload_len, tvb:range(15, 1))
    t:add(f.side_len, tvb:range(16, 1))
    local problem = nil
    if bit.rshift(b0, 6) ~= 1 then
        problem = "version " .. bit.rshift(b0, 6)
    elseif bit.band(b0, 0x1F) ~= 0 then
        problem = "reserved_bits_set"
    elseif m > 16 or pl > 40 or s > 16 then
        problem = "length field out of range"
    elseif 17 + m + pl + s ~= n then
        problem = string.format("lengths 17+%d+%d+%d != %d (%s)", m, pl, s, n,
                                17 + m + pl + s < n and "trailing_bytes" or "truncated")
    elseif not FAMILY[fam] then
        problem = "bad_family"
    elseif tvb:range(2, 1):uint() > 4 then
        problem = "bad_codec"
    elseif fam ~= 3 then
        local w = WIDTHS[fam]
        if tvb:range(8, 2):uint() >= 2 ^ w[1] then problem = "bad_algid" end
        if tvb:range(10, 4):uint() >= 2 ^ w[2] then problem = "bad_key_id" end
        if m > w[3] then problem = "bad_mi_length" end
        if tvb:range(3, 1):uint() > w[4] then problem = "bad_index" end
    elseif bit.band(b0, 0x20) ~= 0 then
        problem = "analog_encrypted" -- TS 23.283 10.13.1: no E2EE on analogue FM
    end
    if not problem and bit.band(b0, 0x20) ~= 0 and tvb:range(2, 1):uint() == 4 then
        problem = "pcm_encrypted" -- never transcoded, so never PCM when encrypted
    end
    if problem then
        t:add_proto_expert_info(e_bad, problem)
        pinfo.cols.info = "X-IWF-LMR malformed: " .. problem
        return n
    end
    local off = 17
    if m > 0 then t:add(f.mi, tvb:range(off, m)) end
    off = off + m
    if pl > 0 then t:add(f.payload, tvb:range(off, pl)) end
    off = off + pl
    if s > 0 then t:add(f.side, tvb:range(off, s)) end
    local enc = bit.band(b0, 0x20) ~= 0
    local info = string.format("%s sf %d idx %d %s", FAMILY[fam], tvb:range(4, 4):uint(),
                               tvb:range(3, 1):uint(), enc and "encrypted" or "clear")
    if enc then
        info = info .. string.format(" ALGID 0x%02x KID 0x%x", tvb:range(8, 2):uint(),
                                     tvb:range(10, 4):uint())
        if m > 0 then info = info .. " MI " .. tostring(tvb:range(17, m):bytes()):lower() end
    end
    t:set_text("X-IWF-LMR: " .. info)
    pinfo.cols.info = "X-IWF-LMR " .. info
    return n
end

DissectorTable.get("rtp_dyn_payload_type"):add("X-IWF-LMR", p)
local registered_pt = p.prefs.payload_type
if registered_pt > 0 then DissectorTable.get("rtp.pt"):add(registered_pt, p) end
function p.prefs_changed()
    local pt = DissectorTable.get("rtp.pt")
    if registered_pt > 0 then pt:remove(registered_pt, p) end
    registered_pt = p.prefs.payload_type
    if registered_pt > 0 then pt:add(registered_pt, p) end
end
