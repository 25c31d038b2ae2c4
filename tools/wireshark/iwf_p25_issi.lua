-- Wireshark dissector: P25 ISSI (TIA-102.BACA) RTP block payload: control octet, block
-- headers (verbose or compact), ISSI packet type, PTT control word, ISSI header word (MI,
-- ALGID, KID, MFID, group, NID, SF/VBB), IMBE voice blocks (frame type, codeword as bytes,
-- status, LDU extras) and opaque blocks of other types.
--
-- Part of OpenIWF (tools/wireshark/, README.md there). Protocol note: docs/protocols/p25-issi.md.
-- Wire facts follow NIST's ISSI tester (p25-wireline, gov.nist.p25.issi.p25payload:
-- P25Payload, BlockHeader (TSO 14 bits / length 10 bits), BlockType, ISSIPacketType,
-- PTTControlWord, ISSIHeaderWord, IMBEVoiceBlock), as summarised in docs/protocols/p25-issi.md,
-- and the public NIST captures in tests/data/issi/.
--
-- Registration: by encoding name (SDP "a=rtpmap:<pt> X-TIA-P25-IMBE/8000", as every NIST
-- capture negotiates) and by the RTP payload type in the preference "p25issi.payload_type"
-- (default 100, NIST's; 0 = only by name).

local bit = bit32

local p = Proto("p25issi", "P25 ISSI RTP payload")

local BLOCK_TYPES = {[0] = "IMBE voice", [1] = "ISSI packet type", [5] = "ISSI header word",
                     [11] = "PTT control word", [63] = "manufacturer specific"}
local PACKET_KIND = {[0] = "ptt_request", [1] = "ptt_grant", [2] = "ptt_progress",
                     [3] = "ptt_end", [4] = "ptt_start", [5] = "mute", [6] = "unmute",
                     [7] = "ptt_wait", [8] = "ptt_deny", [9] = "heartbeat",
                     [10] = "heartbeat_query"}
local ALG_NAMES = {[0x80] = "clear", [0x81] = "DES-OFB", [0x83] = "3DES", [0x84] = "AES-256",
                   [0x85] = "AES-128", [0xAA] = "ADP (RC4)"}

local f = {
    signal = ProtoField.bool("p25issi.signal", "S (signal)", 8, nil, 0x80),
    compact = ProtoField.bool("p25issi.compact", "C (compact block headers)", 8, nil, 0x40),
    nblocks = ProtoField.uint8("p25issi.block_count", "Block headers", base.DEC, nil, 0x3F),
    hdr_e = ProtoField.bool("p25issi.block.e", "E"),
    hdr_type = ProtoField.uint8("p25issi.block.type", "Block type", base.DEC, BLOCK_TYPES),
    hdr_tso = ProtoField.uint16("p25issi.block.tso", "Timestamp offset (TSO)"),
    hdr_len = ProtoField.uint16("p25issi.block.length", "Block length"),
    block = ProtoField.string("p25issi.block.kind", "Block"),
    pt_mute = ProtoField.bool("p25issi.ptype.mute", "M (mute)"),
    pt_type = ProtoField.uint8("p25issi.ptype.type", "Packet type", base.DEC, PACKET_KIND),
    pt_name = ProtoField.string("p25issi.ptype.name", "Packet type name"),
    pt_so = ProtoField.uint8("p25issi.ptype.service_options", "Service options", base.HEX),
    pt_tsn = ProtoField.uint8("p25issi.ptype.tsn", "Transmission sequence number (TSN)"),
    pt_l = ProtoField.bool("p25issi.ptype.losing_audio", "L (losing audio)"),
    pt_hb = ProtoField.uint8("p25issi.ptype.heartbeat", "Heartbeat interval (s)"),
    pcw_wacn = ProtoField.uint24("p25issi.pcw.wacn", "WACN", base.HEX),
    pcw_sys = ProtoField.uint16("p25issi.pcw.system", "System ID", base.HEX),
    pcw_unit = ProtoField.uint24("p25issi.pcw.unit", "Unit ID", base.HEX),
    pcw_unit_text = ProtoField.string("p25issi.pcw.unit_text", "Unit (WACN.SYS.UNIT)"),
    pcw_tp = ProtoField.uint8("p25issi.pcw.priority", "TP (priority type, level)", base.HEX),
    hw_mi = ProtoField.bytes("p25issi.hw.mi", "MI"),
    hw_algid = ProtoField.uint8("p25issi.hw.algid", "ALGID", base.HEX, ALG_NAMES),
    hw_kid = ProtoField.uint16("p25issi.hw.kid", "Key ID"),
    hw_mfid = ProtoField.uint8("p25issi.hw.mfid", "MFID", base.HEX),
    hw_group = ProtoField.uint16("p25issi.hw.group", "Group ID", base.HEX),
    hw_nid = ProtoField.uint16("p25issi.hw.nid", "NID (NAC + DUID)", base.HEX),
    hw_sf = ProtoField.uint8("p25issi.hw.sf", "SF (superframe counter)", base.DEC, nil, 0xC0),
    hw_vbb = ProtoField.uint8("p25issi.hw.vbb", "VBB (voice blocks bundled)", base.DEC, nil, 0x30),
    imbe_ft = ProtoField.uint8("p25issi.imbe.ft", "Frame type", base.HEX),
    imbe_index = ProtoField.uint8("p25issi.imbe.index", "Frame index in the superframe"),
    imbe_bits = ProtoField.bytes("p25issi.imbe.codeword", "IMBE codeword (u0..u7)"),
    imbe_status = ProtoField.bytes("p25issi.imbe.status", "Status (Et, Er, M, L, E4, E1, SF)"),
    imbe_extra = ProtoField.bytes("p25issi.imbe.extra", "Extra (ES / LSD of this frame)"),
    opaque = ProtoField.bytes("p25issi.opaque", "Block payload"),
}
local fl = {}
for _, v in pairs(f) do fl[#fl + 1] = v end
p.fields = fl

local e_bad = ProtoExpert.new("p25issi.malformed", "ISSI payload does not add up",
                              expert.group.MALFORMED, expert.severity.ERROR)
p.experts = {e_bad}

p.prefs.payload_type = Pref.uint("RTP payload type", 100,
                                 "Payload type of the ISSI stream (0: only by SDP name)")

-- IMBE block length by frame type (docs/protocols/p25-issi.md, NIST IMBEVoiceBlock):
-- 0xC2..0xD3 -> 14; CAI 0x64..0x69, 0x6D..0x72 -> 18; 0x6A, 0x73 -> 17; other CAI -> 14.
local function imbeLength(ft)
    if ft >= 0xC2 and ft <= 0xD3 then return 14 end
    if (ft >= 0x64 and ft <= 0x69) or (ft >= 0x6D and ft <= 0x72) then return 18 end
    if ft == 0x6A or ft == 0x73 then return 17 end
    if ft >= 0x62 and ft <= 0x73 then return 14 end
    return nil
end

local function blockBody(tvb, off, len, btype, t)
    local r = tvb:range(off, len)
    if btype == 1 and len == 4 then
        local b0, b2 = tvb:range(off, 1):uint(), tvb:range(off + 2, 1):uint()
        local kind = PACKET_KIND[bit.band(b0, 0x7F)] or "unknown"
        t:add(f.block, r, "packet_type")
        t:add(f.pt_mute, tvb:range(off, 1), bit.band(b0, 0x80) ~= 0)
        t:add(f.pt_type, tvb:range(off, 1), bit.band(b0, 0x7F))
        t:add(f.pt_name, tvb:range(off, 1), kind)
        t:add(f.pt_so, tvb:range(off + 1, 1))
        t:add(f.pt_tsn, tvb:range(off + 2, 1), bit.rshift(b2, 1))
        t:add(f.pt_l, tvb:range(off + 2, 1), bit.band(b2, 1) ~= 0)
        t:add(f.pt_hb, tvb:range(off + 3, 1))
        t:set_text("ISSI packet type: " .. kind)
        return kind
    elseif btype == 11 and len == 8 then
        local ws = tvb:range(off, 4):uint()
        local wacn, sys = math.floor(ws / 4096), ws % 4096
        local unit = tvb:range(off + 4, 3):uint()
        t:add(f.block, r, "ptt_control_word")
        t:add(f.pcw_wacn, tvb:range(off, 3), wacn)
        t:add(f.pcw_sys, tvb:range(off + 2, 2), sys)
        t:add(f.pcw_unit, tvb:range(off + 4, 3))
        local text = string.format("%05X.%03X.%06X", wacn, sys, unit)
        t:add(f.pcw_unit_text, r, text)
        t:add(f.pcw_tp, tvb:range(off + 7, 1))
        t:set_text("PTT control word: unit " .. text)
    elseif btype == 5 and len == 18 then
        t:add(f.block, r, "header_word")
        t:add(f.hw_mi, tvb:range(off, 9))
        t:add(f.hw_algid, tvb:range(off + 9, 1))
        t:add(f.hw_kid, tvb:range(off + 10, 2))
        t:add(f.hw_mfid, tvb:range(off + 12, 1))
        t:add(f.hw_group, tvb:range(off + 13, 2))
        t:add(f.hw_nid, tvb:range(off + 15, 2))
        t:add(f.hw_sf, tvb:range(off + 17, 1))
        t:add(f.hw_vbb, tvb:range(off + 17, 1))
        t:set_text(string.format("ISSI header word: ALGID 0x%02x KID 0x%04x group 0x%04x MI %s",
                                 tvb:range(off + 9, 1):uint(), tvb:range(off + 10, 2):uint(),
                                 tvb:range(off + 13, 2):uint(),
                                 tostring(tvb:range(off, 9):bytes()):lower()))
    elseif btype == 0 and len >= 14 and len <= 22 then
        local ft = tvb:range(off, 1):uint()
        t:add(f.block, r, "imbe")
        t:add(f.imbe_ft, tvb:range(off, 1))
        local idx = nil
        if ft >= 0x62 and ft <= 0x73 then idx = ft - 0x62 end
        if ft >= 0xC2 and ft <= 0xD3 then idx = ft - 0xC2 end
        if idx then t:add(f.imbe_index, tvb:range(off, 1), idx) end
        t:add(f.imbe_bits, tvb:range(off + 1, 11))
        t:add(f.imbe_status, tvb:range(off + 12, 2))
        if len > 14 then t:add(f.imbe_extra, tvb:range(off + 14, len - 14)) end
        t:set_text(string.format("IMBE voice: FT 0x%02x%s", ft,
                                 idx and (" (index " .. idx .. ")") or ""))
    else
        t:add(f.block, r, "opaque")
        if len > 0 then t:add(f.opaque, r) end
        t:set_text(string.format("Block type %d (%d bytes, opaque)", btype, len))
    end
    return nil
end

function p.dissector(tvb, pinfo, tree)
    local n = tvb:len()
    pinfo.cols.protocol = "P25 ISSI"
    local t = tree:add(p, tvb())
    local function bad(msg)
        t:add_proto_expert_info(e_bad, msg)
        pinfo.cols.info = "ISSI malformed: " .. msg
        return n
    end
    if n < 1 then return bad("empty") end
    local c = tvb:range(0, 1):uint()
    t:add(f.signal, tvb:range(0, 1))
    t:add(f.compact, tvb:range(0, 1))
    t:add(f.nblocks, tvb:range(0, 1))
    local compact = bit.band(c, 0x40) ~= 0
    local count = bit.band(c, 0x3F)
    if count == 0 then return bad("no block headers") end
    local hsize = compact and 1 or 4
    if n < 1 + count * hsize then return bad("truncated block headers") end
    local hdrs = {}
    for i = 0, count - 1 do
        local o = 1 + i * hsize
        local h = {range = tvb:range(o, hsize)}
        if compact then
            local b = tvb:range(o, 1):uint()
            h.e, h.type, h.tso, h.len = bit.band(b, 0x80) ~= 0, bit.band(b, 0x7F), 0, nil
        else
            local b0 = tvb:range(o, 1):uint()
            local rest = tvb:range(o + 1, 3):uint()
            h.e, h.type = bit.band(b0, 0x80) ~= 0, bit.band(b0, 0x7F)
            h.tso, h.len = math.floor(rest / 1024), rest % 1024
        end
        hdrs[#hdrs + 1] = h
    end
    local off = 1 + count * hsize
    local kind = nil
    local nimbe = 0
    for i, h in ipairs(hdrs) do
        local len = h.len
        if not len then
            if h.type == 1 then len = 4
            elseif h.type == 11 then len = 8
            elseif h.type == 5 then len = 18
            elseif h.type == 0 then
                if off >= n then return bad("block overrun") end
                len = imbeLength(tvb:range(off, 1):uint())
            end
            if not len then return bad("compact block of unknown length, type " .. h.type) end
        end
        if off + len > n then return bad(string.format("block %d overruns the packet", i)) end
        local bt = t:add(p, len > 0 and tvb:range(off, len) or h.range)
        local ht = bt:add(p, h.range, "Block header")
        ht:add(f.hdr_e, h.range, h.e)
        ht:add(f.hdr_type, h.range, h.type)
        ht:add(f.hdr_tso, h.range, h.tso)
        if not compact then ht:add(f.hdr_len, h.range, h.len) end
        local k = blockBody(tvb, off, len, h.type, bt)
        kind = kind or k
        if h.type == 0 then nimbe = nimbe + 1 end
        off = off + len
    end
    if off ~= n then return bad(string.format("%d bytes after the last block", n - off)) end
    pinfo.cols.info = string.format("ISSI %s%s", kind or "payload",
                                    nimbe > 0 and (" " .. nimbe .. " IMBE") or "")
    return n
end

DissectorTable.get("rtp_dyn_payload_type"):add("X-TIA-P25-IMBE", p)
local registered_pt = p.prefs.payload_type
if registered_pt > 0 then DissectorTable.get("rtp.pt"):add(registered_pt, p) end
function p.prefs_changed()
    local pt = DissectorTable.get("rtp.pt")
    if registered_pt > 0 then pt:remove(registered_pt, p) end
    registered_pt = p.prefs.payload_type
    if registered_pt > 0 then pt:add(registered_pt, p) end
end
