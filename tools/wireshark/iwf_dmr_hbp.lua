-- Wireshark dissector: DMR Homebrew Repeater Protocol (HBP), as MMDVMHost, DMRGateway, HBlink
-- and OpenIWF's iwfd speak it over UDP, with the metadata inside the 33-byte DMR burst of a
-- DMRD packet (slot type, EMB, PI header, full LC, embedded LC).
--
-- Part of OpenIWF (tools/wireshark/, README.md there). Protocol note: docs/protocols/dmr-hbp.md.
-- Wire facts follow the peers' sources, not OpenIWF's code:
--   message set and lengths   DMRGateway DMRNetwork.cpp (clock(), writeLogin/Authorisation/
--                             Config/Ping), MMDVMHost DMRDirectNetwork.cpp
--   DMRD layout               MMDVMHost DMRNetwork.cpp write()/read()
--   RPTC configuration        DMRGateway.cpp getConfig() sprintf widths
--   burst bit positions       MMDVMHost DMRSlotType.cpp, DMREMB.cpp, BPTC19696.cpp,
--                             DMREmbeddedData.cpp (ETSI TS 102 361-1 9.1, B.1.1, B.2.1)
--   FEC checks                Golay(20,8) (MMDVMHost Golay2087.cpp), QR(16,7,6) (QR1676.cpp),
--                             RS(12,9) (RS129.cpp), CRC-CCITT (CRC.cpp addCCITT162),
--                             5-bit checksum (CRC.cpp checkFiveBit)
--   PI header                 dvmhost PrivacyLC.cpp, dsd-fme dmr_pi.c
-- No error correction is attempted beyond the nearest-codeword decode of the slot type and
-- EMB; a BPTC/embedded block whose CRC, RS or checksum fails gets an expert warning.
--
-- Registration: heuristic on UDP (the 4- to 7-byte ASCII magic and the exact length of each
-- message), enabled by default, plus the UDP port(s) in the preference "dmrhbp.ports"
-- (default 62031, the master port of MMDVMHost/DMRGateway configurations).

local bit = bit32

local p = Proto("dmrhbp", "DMR Homebrew Repeater Protocol")

local FT_NAMES = {[0] = "voice", [1] = "voice_sync", [2] = "data_sync", [3] = "reserved"}
local DT_NAMES = {
    [0] = "pi_header", [1] = "voice_lc_header", [2] = "terminator_with_lc", [3] = "csbk",
    [4] = "mbc_header", [5] = "mbc_continuation", [6] = "data_header", [7] = "rate_1_2_data",
    [8] = "rate_3_4_data", [9] = "idle", [10] = "rate_1_data", [11] = "unified_single_block",
    [12] = "reserved", [13] = "reserved", [14] = "reserved", [15] = "reserved"}
local LCSS_NAMES = {[0] = "single", [1] = "first", [2] = "last", [3] = "continuation"}
local FLCO_NAMES = {[0] = "group voice (Grp_V_Ch_Usr)", [3] = "unit to unit (UU_V_Ch_Usr)",
                    [4] = "talker alias header", [5] = "talker alias block 1",
                    [6] = "talker alias block 2", [7] = "talker alias block 3", [8] = "GPS"}
local ALG_NAMES = {[1] = "ARC4 / EP 40-bit", [2] = "DES", [4] = "AES-128", [5] = "AES-256"}

local f = {
    type = ProtoField.string("dmrhbp.type", "Message type"),
    peer_id = ProtoField.uint32("dmrhbp.peer_id", "Peer ID"),
    ack = ProtoField.bytes("dmrhbp.ack", "RPTACK value (salt or peer ID)"),
    key = ProtoField.bytes("dmrhbp.key", "SHA-256(salt | password)"),
    text = ProtoField.bytes("dmrhbp.text", "Text"),
    -- RPTC configuration
    callsign = ProtoField.string("dmrhbp.config.callsign", "Callsign"),
    rx_freq = ProtoField.string("dmrhbp.config.rx_freq", "RX frequency (Hz)"),
    tx_freq = ProtoField.string("dmrhbp.config.tx_freq", "TX frequency (Hz)"),
    tx_power = ProtoField.string("dmrhbp.config.tx_power", "TX power"),
    cfg_cc = ProtoField.string("dmrhbp.config.color_code", "Colour code"),
    latitude = ProtoField.string("dmrhbp.config.latitude", "Latitude"),
    longitude = ProtoField.string("dmrhbp.config.longitude", "Longitude"),
    height = ProtoField.string("dmrhbp.config.height", "Height (m)"),
    location = ProtoField.string("dmrhbp.config.location", "Location"),
    description = ProtoField.string("dmrhbp.config.description", "Description"),
    slots = ProtoField.string("dmrhbp.config.slots", "Slots"),
    url = ProtoField.string("dmrhbp.config.url", "URL"),
    software_id = ProtoField.string("dmrhbp.config.software_id", "Software ID"),
    package_id = ProtoField.string("dmrhbp.config.package_id", "Package ID"),
    -- DMRD
    seq = ProtoField.uint8("dmrhbp.seq", "Sequence number"),
    src_id = ProtoField.uint24("dmrhbp.src_id", "Source ID"),
    dst_id = ProtoField.uint24("dmrhbp.dst_id", "Destination ID"),
    flags = ProtoField.uint8("dmrhbp.flags", "Slot / call / frame type", base.HEX),
    slot = ProtoField.uint8("dmrhbp.slot", "Timeslot"),
    call = ProtoField.string("dmrhbp.call", "Call type"),
    frame_type = ProtoField.string("dmrhbp.frame_type", "Frame type"),
    data_type = ProtoField.string("dmrhbp.data_type", "Data type"),
    voice_burst = ProtoField.string("dmrhbp.voice_burst", "Voice burst"),
    stream_id = ProtoField.uint32("dmrhbp.stream_id", "Stream ID", base.DEC),
    burst = ProtoField.bytes("dmrhbp.burst", "DMR burst (33 bytes)"),
    ber = ProtoField.uint8("dmrhbp.ber", "BER"),
    rssi = ProtoField.uint8("dmrhbp.rssi", "RSSI"),
    -- burst metadata
    sync = ProtoField.string("dmrhbp.sync", "Sync pattern"),
    st_cc = ProtoField.uint8("dmrhbp.slot_type.color_code", "Slot type colour code"),
    st_dt = ProtoField.uint8("dmrhbp.slot_type.data_type", "Slot type data type"),
    emb_cc = ProtoField.uint8("dmrhbp.emb.color_code", "EMB colour code"),
    emb_pi = ProtoField.bool("dmrhbp.emb.pi", "EMB PI (privacy)"),
    emb_lcss = ProtoField.uint8("dmrhbp.emb.lcss", "EMB LCSS", base.DEC, LCSS_NAMES),
    emb_frag = ProtoField.bytes("dmrhbp.emb.fragment", "Embedded signalling fragment (32 bits)"),
    info = ProtoField.bytes("dmrhbp.info", "BPTC(196,96) information (12 bytes)"),
    pi_group = ProtoField.bool("dmrhbp.pi.group", "PI header G/I (group)"),
    pi_algid = ProtoField.uint8("dmrhbp.pi.algid", "PI header ALGID", base.DEC, ALG_NAMES),
    pi_fid = ProtoField.uint8("dmrhbp.pi.fid", "PI header FID", base.HEX),
    pi_key_id = ProtoField.uint8("dmrhbp.pi.key_id", "PI header key ID"),
    pi_iv = ProtoField.bytes("dmrhbp.pi.iv", "PI header IV (MI, 32 bits)"),
    pi_dst = ProtoField.uint24("dmrhbp.pi.dst", "PI header destination"),
    pi_crc = ProtoField.uint16("dmrhbp.pi.crc", "PI header CRC (XOR 0x6969)", base.HEX),
    lc_flco = ProtoField.uint8("dmrhbp.lc.flco", "LC FLCO", base.DEC, FLCO_NAMES),
    lc_pf = ProtoField.bool("dmrhbp.lc.pf", "LC protect flag"),
    lc_fid = ProtoField.uint8("dmrhbp.lc.fid", "LC FID"),
    lc_so = ProtoField.uint8("dmrhbp.lc.service_options", "LC service options"),
    lc_emerg = ProtoField.bool("dmrhbp.lc.emergency", "Emergency"),
    lc_priv = ProtoField.bool("dmrhbp.lc.privacy", "Privacy (encrypted)"),
    lc_dst = ProtoField.uint24("dmrhbp.lc.dst", "LC destination"),
    lc_src = ProtoField.uint24("dmrhbp.lc.src", "LC source"),
    elc_flco = ProtoField.uint8("dmrhbp.embedded_lc.flco", "Embedded LC FLCO", base.DEC, FLCO_NAMES),
    elc_fid = ProtoField.uint8("dmrhbp.embedded_lc.fid", "Embedded LC FID"),
    elc_so = ProtoField.uint8("dmrhbp.embedded_lc.service_options", "Embedded LC service options"),
    elc_emerg = ProtoField.bool("dmrhbp.embedded_lc.emergency", "Emergency"),
    elc_priv = ProtoField.bool("dmrhbp.embedded_lc.privacy", "Privacy (encrypted)"),
    elc_dst = ProtoField.uint24("dmrhbp.embedded_lc.dst", "Embedded LC destination"),
    elc_src = ProtoField.uint24("dmrhbp.embedded_lc.src", "Embedded LC source"),
}
local fl = {}
for _, v in pairs(f) do fl[#fl + 1] = v end
p.fields = fl

local e_len = ProtoExpert.new("dmrhbp.bad_length", "Length does not match the message type",
                              expert.group.MALFORMED, expert.severity.ERROR)
local e_ft = ProtoExpert.new("dmrhbp.bad_frame_type", "Frame type 3 or voice burst > 5",
                             expert.group.MALFORMED, expert.severity.ERROR)
local e_fec = ProtoExpert.new("dmrhbp.fec", "FEC / CRC check failed", expert.group.CHECKSUM,
                              expert.severity.WARN)
local e_dt = ProtoExpert.new("dmrhbp.data_type_mismatch",
                             "Slot type data type differs from DMRD byte 15",
                             expert.group.PROTOCOL, expert.severity.WARN)
p.experts = {e_len, e_ft, e_fec, e_dt}

p.prefs.heuristic = Pref.bool("Heuristic on UDP", true,
                              "Recognise HBP on any UDP port by its magic and length")
p.prefs.ports = Pref.range("UDP ports", "62031", "HBP master ports (decoded whatever the heuristic)",
                           65535)

-- Message prefixes, longest first (RPTCL before RPTC), with their allowed lengths.
-- DMRGateway DMRNetwork.cpp / MMDVMHost DMRDirectNetwork.cpp; RPTC 302..400 (DMRGateway's
-- buffer; 10-digit frequencies make it longer than 302), DMRD 53 or 55 bytes.
local PREFIXES = {
    {"RPTSBKN", 11, 11}, {"RPTPING", 11, 11}, {"MSTPONG", 11, 11}, {"RPTACK", 10, 10},
    {"MSTNAK", 10, 10}, {"RPTCL", 9, 9}, {"MSTCL", 9, 9}, {"RPTL", 8, 8}, {"RPTK", 40, 40},
    {"RPTC", 302, 400}, {"RPTO", 8, 520}, {"DMRD", 53, 55}, {"DMRA", 8, 50}, {"DMRG", 8, 50},
    {"RPTG", 8, 50},
}

local function classify(tvb)
    local n = tvb:len()
    for _, pr in ipairs(PREFIXES) do
        local m = #pr[1]
        if n >= m and tvb:range(0, m):string() == pr[1] then
            return pr[1], pr[2], pr[3]
        end
    end
    return nil
end

-- ---------------------------------------------------------------- bit helpers

local function bytesOf(tvb, off, n)
    local t = {}
    for i = 0, n - 1 do t[i] = tvb:range(off + i, 1):uint() end
    return t
end

local function getBit(b, i) -- b: 0-based byte table, bit 0 = MSB of byte 0
    return bit.band(bit.rshift(b[math.floor(i / 8)], 7 - i % 8), 1)
end

local function popcount(v)
    local c = 0
    while v ~= 0 do
        c = c + bit.band(v, 1)
        v = bit.rshift(v, 1)
    end
    return c
end

local function hex(b, n)
    local s = {}
    for i = 0, n - 1 do s[#s + 1] = string.format("%02x", b[i]) end
    return table.concat(s)
end

-- Remainder of polynomial division over GF(2): v has `nbits` bits, g has degree `deg`.
local function polyRem(v, nbits, g, deg)
    for i = nbits - 1, deg, -1 do
        if bit.band(bit.rshift(v, i), 1) == 1 then v = bit.bxor(v, bit.lshift(g, i - deg)) end
    end
    return v
end

-- Golay(20,8): Golay(23,12) generator 0xC75 shortened by 4 + even parity (ETSI B.3.1);
-- table equal to MMDVMHost Golay2087.cpp ENCODING_TABLE_2087 (1 -> parity 0x8EB, 2 -> 0x93E).
local GOLAY = {}
for d = 0, 255 do
    local par = polyRem(bit.lshift(d, 11), 23, 0xC75, 11)
    local cw = bit.bor(bit.lshift(d, 11), par)
    GOLAY[d] = bit.bor(bit.lshift(d, 12), bit.lshift(par, 1), popcount(cw) % 2)
end
-- QR(16,7,6): (15,7) generator 0x139 + even parity (ETSI B.3.2; MMDVMHost QR1676.cpp
-- ENCODING_TABLE_1676: 1 -> 0x0273, 64 -> 0x804F, 127 -> 0xFE5B).
local QR = {}
for d = 0, 127 do
    local par = polyRem(bit.lshift(d, 8), 15, 0x139, 8)
    local cw = bit.bor(bit.lshift(d, 8), par)
    QR[d] = bit.bor(bit.lshift(d, 9), bit.lshift(par, 1), popcount(cw) % 2)
end

local function nearest(tbl, max, word)
    local best, bestd = 0, 99
    for d = 0, max do
        local dist = popcount(bit.bxor(tbl[d], word))
        if dist < bestd then best, bestd = d, dist end
    end
    return best, bestd
end

-- Sync patterns (ETSI 9.1.1 table 9.2), 48 bits as two 24-bit halves (Lua 5.2 numbers are
-- doubles: 24-bit halves keep the arithmetic exact in bit32).
local SYNCS = {
    {"bs_voice", 0x755FD7, 0xDF75F7}, {"bs_data", 0xDFF57D, 0x75DF5D},
    {"ms_voice", 0x7F7D5D, 0xD57DFD}, {"ms_data", 0xD5D7F7, 0x7FD757},
    {"ms_rc", 0x77D55F, 0x7DFD77}, {"ts1_voice", 0x5D577F, 0x7757FF},
    {"ts1_data", 0xF7FDD5, 0xDDFD55}, {"ts2_voice", 0x7DFFD5, 0xF55D5F},
    {"ts2_data", 0xD7557F, 0x5FF7F5},
}

local function bitsValue(b, start, n)
    local v = 0
    for i = 0, n - 1 do v = v * 2 + getBit(b, start + i) end
    return v
end

local function identifySync(b)
    local hi, lo = bitsValue(b, 108, 24), bitsValue(b, 132, 24)
    local best, bestd = "none", 5
    for _, s in ipairs(SYNCS) do
        local d = popcount(bit.bxor(hi, s[2])) + popcount(bit.bxor(lo, s[3]))
        if d < bestd then best, bestd = s[1], d end
    end
    return best
end

-- BPTC(196,96): MMDVMHost BPTC19696.cpp decodeExtractBinary / decodeDeInterleave /
-- decodeExtractData (no Hamming correction here).
local function bptcInfo(b)
    local raw = {}
    for i = 0, 97 do raw[i] = getBit(b, i) end
    for i = 98, 195 do raw[i] = getBit(b, i + 68) end -- burst bits 166..263
    local di = {}
    for a = 0, 195 do di[a] = raw[(a * 181) % 196] end
    local bits = {}
    local function take(from, to) for a = from, to do bits[#bits + 1] = di[a] end end
    take(4, 11)
    for r = 1, 8 do take(r * 15 + 1, r * 15 + 11) end
    local out = {}
    for i = 0, 11 do
        local v = 0
        for k = 1, 8 do v = v * 2 + bits[i * 8 + k] end
        out[i] = v
    end
    return out
end

-- CRC-CCITT (x^16+x^12+x^5+1, preset 0, inverted) over n bytes: MMDVMHost CRC.cpp
-- addCCITT162 (ETSI B.3.7).
local function crcCcitt(b, n)
    local crc = 0
    for i = 0, n - 1 do
        crc = bit.bxor(crc, bit.lshift(b[i], 8))
        for _ = 1, 8 do
            if bit.band(crc, 0x8000) ~= 0 then
                crc = bit.band(bit.bxor(bit.lshift(crc, 1), 0x1021), 0xFFFF)
            else
                crc = bit.band(bit.lshift(crc, 1), 0xFFFF)
            end
        end
    end
    return bit.bxor(crc, 0xFFFF)
end

-- RS(12,9) over GF(2^8), primitive polynomial 0x11D, generator x^3 + 14x^2 + 56x + 64
-- (MMDVMHost RS129.cpp; ETSI B.3.6).
local EXP, LOG = {}, {}
do
    local x = 1
    for i = 0, 254 do
        EXP[i] = x
        LOG[x] = i
        x = x * 2
        if x >= 256 then x = bit.bxor(x, 0x11D) end
    end
end
local function gmul(a, c)
    if a == 0 or c == 0 then return 0 end
    return EXP[(LOG[a] + LOG[c]) % 255]
end
local function rsParity(b)
    local g = {14, 56, 64}
    local r = {0, 0, 0}
    for i = 0, 8 do
        local fb = bit.bxor(b[i], r[1])
        r[1] = bit.bxor(r[2], gmul(fb, g[1]))
        r[2] = bit.bxor(r[3], gmul(fb, g[2]))
        r[3] = gmul(fb, g[3])
    end
    return r
end

-- Embedded LC: 128 raw bits -> 8 x 16 matrix, column-wise (MMDVMHost DMREmbeddedData.cpp
-- decodeEmbeddedData), 72 LC bits + 5-bit checksum (sum of the 9 bytes mod 31, CRC.cpp
-- checkFiveBit) + column parity.
local function decodeEmbedded(raw)
    local data = {}
    local b = 0
    for a = 0, 127 do
        data[b] = raw[a]
        b = b + 16
        if b > 127 then b = b - 127 end
    end
    local parity_ok = true
    for a = 0, 15 do
        local x = 0
        for r = 0, 7 do x = bit.bxor(x, data[a + 16 * r]) end
        if x ~= 0 then parity_ok = false end
    end
    local bits = {}
    local function take(from, to) for a = from, to do bits[#bits + 1] = data[a] end end
    take(0, 10); take(16, 26); take(32, 41); take(48, 57); take(64, 73); take(80, 89)
    take(96, 105)
    local lc = {}
    local sum = 0
    for i = 0, 8 do
        local v = 0
        for k = 1, 8 do v = v * 2 + bits[i * 8 + k] end
        lc[i] = v
        sum = sum + v
    end
    local crc = data[42] * 16 + data[58] * 8 + data[74] * 4 + data[90] * 2 + data[106]
    return lc, parity_ok and (sum % 31) == crc
end

-- Per (peer ID, slot) assembler state, filled in frame order on the first pass; results kept
-- per frame number so that later passes (GUI, tshark -2) show the same thing.
local asm_state = {}
local embedded_by_frame = {}

function p.init()
    asm_state = {}
    embedded_by_frame = {}
end

-- The 72-bit LC (ETSI TS 102 361-2 7.1.1) from the first 9 bytes of `ltvb`.
local function addLc(tree, lc, fields, ltvb)
    local t = tree:add(fields.root, ltvb:range(0, 9))
    t:add(fields.flco, ltvb:range(0, 1), bit.band(lc[0], 0x3F))
    if fields.pf then t:add(fields.pf, ltvb:range(0, 1), bit.band(lc[0], 0x80) ~= 0) end
    t:add(fields.fid, ltvb:range(1, 1))
    t:add(fields.so, ltvb:range(2, 1))
    t:add(fields.emerg, ltvb:range(2, 1), bit.band(lc[2], 0x80) ~= 0)
    t:add(fields.priv, ltvb:range(2, 1), bit.band(lc[2], 0x40) ~= 0)
    t:add(fields.dst, ltvb:range(3, 3))
    t:add(fields.src, ltvb:range(6, 3))
    return t
end

local LC_FIELDS = {root = p, flco = f.lc_flco, pf = f.lc_pf, fid = f.lc_fid, so = f.lc_so,
                   emerg = f.lc_emerg, priv = f.lc_priv, dst = f.lc_dst, src = f.lc_src}
local ELC_FIELDS = {root = p, flco = f.elc_flco, fid = f.elc_fid, so = f.elc_so,
                    emerg = f.elc_emerg, priv = f.elc_priv, dst = f.elc_dst, src = f.elc_src}

local function dissectBurst(tvb, pinfo, tree, peer_id, slot, ft, dtv)
    local br = tvb:range(20, 33)
    local b = bytesOf(tvb, 20, 33)
    local bt = tree:add(f.burst, br)
    bt:add(f.sync, tvb:range(33, 7), identifySync(b))
    if ft == 1 then return "" end -- burst A: sync in the middle, voice around it
    if ft == 0 then
        -- EMB: MMDVMHost DMREMB.cpp putData (bytes 13/14 and 18/19 of the burst)
        -- EMB: MMDVMHost DMREMB.cpp putData: burst bits 108..115 and 148..155
        local w = bitsValue(b, 108, 8) * 256 + bitsValue(b, 148, 8)
        local code, dist = nearest(QR, 127, w)
        local cc = bit.rshift(code, 3)
        local pi = bit.band(code, 0x04) ~= 0
        local lcss = bit.band(code, 0x03)
        local emb_range = tvb:range(33, 7)
        bt:add(f.emb_cc, emb_range, cc)
        bt:add(f.emb_pi, emb_range, pi)
        bt:add(f.emb_lcss, emb_range, lcss)
        if dist > 2 then
            bt:add_proto_expert_info(e_fec, "EMB: QR(16,7,6) uncorrectable")
        end
        -- Embedded signalling: bits 4..35 of bytes 14..18 (DMREmbeddedData.cpp addData)
        local frag = {}
        for i = 0, 31 do frag[i] = getBit(b, 14 * 8 + 4 + i) end
        local fv = {}
        for i = 0, 3 do
            local v = 0
            for k = 0, 7 do v = v * 2 + frag[i * 8 + k] end
            fv[i] = v
        end
        local ftvb = ByteArray.new(hex(fv, 4)):tvb("Embedded signalling fragment")
        bt:add(f.emb_frag, ftvb:range(0, 4))
        if not pinfo.visited then
            local key = peer_id .. "/" .. slot
            local st = asm_state[key] or {state = 0, raw = {}}
            asm_state[key] = st
            -- MMDVMHost's state machine: LCSS 1 starts, 3 continues (twice), 2 completes.
            local result = nil
            if lcss == 1 then
                for i = 0, 31 do st.raw[i] = frag[i] end
                st.state = 1
            elseif lcss == 3 and (st.state == 1 or st.state == 2) then
                for i = 0, 31 do st.raw[st.state * 32 + i] = frag[i] end
                st.state = st.state + 1
            elseif lcss == 2 and st.state == 3 then
                for i = 0, 31 do st.raw[96 + i] = frag[i] end
                st.state = 0
                local lc, ok = decodeEmbedded(st.raw)
                result = {lc = lc, ok = ok}
            end
            embedded_by_frame[pinfo.number] = result
        end
        local r = embedded_by_frame[pinfo.number]
        if r then
            if r.ok then
                local ltvb = ByteArray.new(hex(r.lc, 9)):tvb("Embedded LC")
                addLc(bt, r.lc, ELC_FIELDS, ltvb):set_text(
                    "Embedded LC (bursts B-E of this superframe)")
            else
                bt:add_proto_expert_info(e_fec, "Embedded LC: parity or checksum failed")
            end
        end
        return pi and " PI" or ""
    end
    -- Data sync: slot type (DMRSlotType.cpp putData) then BPTC(196,96).
    -- 20 bits: burst bits 98..107 and 156..165 (bytes 12 b5..0, 13 b7..4, 19 b3..0, 20 b7..2)
    local w = bitsValue(b, 98, 10) * 1024 + bitsValue(b, 156, 10)
    local code, dist = nearest(GOLAY, 255, w)
    local cc, dt = bit.rshift(code, 4), bit.band(code, 0x0F)
    local st_range = tvb:range(32, 9)
    bt:add(f.st_cc, st_range, cc)
    bt:add(f.st_dt, st_range, dt):append_text(" (" .. DT_NAMES[dt] .. ")")
    if dist > 3 then bt:add_proto_expert_info(e_fec, "Slot type: Golay(20,8) uncorrectable") end
    if dt ~= dtv then
        bt:add_proto_expert_info(e_dt)
        return ""
    end
    if dt > 7 and dt ~= 9 then return "" end
    local info = bptcInfo(b)
    local itvb = ByteArray.new(hex(info, 12)):tvb("BPTC(196,96) information")
    bt:add(f.info, itvb:range(0, 12))
    if dt == 0 then
        local crc = crcCcitt(info, 10)
        local sent = bit.bxor(info[10] * 256 + info[11], 0x6969)
        local t = bt:add(p, itvb:range(0, 12), "PI header")
        t:add(f.pi_group, itvb:range(0, 1), bit.band(info[0], 0x20) ~= 0)
        t:add(f.pi_algid, itvb:range(0, 1), bit.band(info[0], 0x07))
        t:add(f.pi_fid, itvb:range(1, 1))
        t:add(f.pi_key_id, itvb:range(2, 1))
        t:add(f.pi_iv, itvb:range(3, 4))
        t:add(f.pi_dst, itvb:range(7, 3))
        t:add(f.pi_crc, itvb:range(10, 2))
        if crc ~= sent then t:add_proto_expert_info(e_fec, "PI header CRC-CCITT failed") end
        return string.format(" ALGID %d KID %d IV %s", bit.band(info[0], 0x07), info[2],
                             hex({[0] = info[3], info[4], info[5], info[6]}, 4))
    elseif dt == 1 or dt == 2 then
        local mask = dt == 1 and 0x96 or 0x99
        local r = rsParity(info)
        local t = addLc(bt, info, LC_FIELDS, itvb)
        t:set_text(dt == 1 and "Full LC (voice LC header)" or "Full LC (terminator)")
        if r[1] ~= bit.bxor(info[9], mask) or r[2] ~= bit.bxor(info[10], mask) or
            r[3] ~= bit.bxor(info[11], mask) then
            t:add_proto_expert_info(e_fec, "Full LC: RS(12,9) check failed")
        end
        return bit.band(info[2], 0x40) ~= 0 and " privacy" or ""
    end
    return ""
end

local function dissectConfig(tvb, tree)
    local n = tvb:len()
    local cfg = tvb:range(8, n - 8):string()
    local tail = 268 -- power .. package ID: fixed widths at the end
    local function trimmed(s) return (s:gsub("[ %z]+$", "")) end
    local t = tree:add(p, tvb:range(8, n - 8), "Configuration")
    t:add(f.callsign, tvb:range(8, 8), trimmed(cfg:sub(1, 8)))
    -- RX and TX frequency: %09u each (10 digits at 1 GHz and up, DMRGateway getConfig());
    -- a 10-digit frequency never starts with 0; of two possible splits, the closer pair.
    local mid = cfg:sub(9, #cfg - tail)
    local rx = 9
    if #mid == 20 then
        rx = 10
    elseif #mid == 19 then
        local ok9 = mid:sub(10, 10) ~= "0"
        local ok10 = mid:sub(1, 1) ~= "0"
        if ok9 and ok10 then
            local a9 = math.abs(tonumber(mid:sub(1, 9)) or 0) - (tonumber(mid:sub(10)) or 0)
            local a10 = math.abs(tonumber(mid:sub(1, 10)) or 0) - (tonumber(mid:sub(11)) or 0)
            rx = math.abs(a10) < math.abs(a9) and 10 or 9
        elseif ok10 then
            rx = 10
        end
    end
    t:add(f.rx_freq, tvb:range(16, rx), trimmed(mid:sub(1, rx)))
    t:add(f.tx_freq, tvb:range(16 + rx, #mid - rx), trimmed(mid:sub(rx + 1)))
    local widths = {{f.tx_power, 2}, {f.cfg_cc, 2}, {f.latitude, 8}, {f.longitude, 9},
                    {f.height, 3}, {f.location, 20}, {f.description, 19}, {f.slots, 1},
                    {f.url, 124}, {f.software_id, 40}, {f.package_id, 40}}
    local off = n - tail
    for _, w in ipairs(widths) do
        t:add(w[1], tvb:range(off, w[2]), trimmed(tvb:range(off, w[2]):string()))
        off = off + w[2]
    end
end

local function dissect(tvb, pinfo, tree)
    local name, lo, hi = classify(tvb)
    if not name then return 0 end
    pinfo.cols.protocol = "DMR HBP"
    local n = tvb:len()
    local t = tree:add(p, tvb(), "DMR Homebrew Repeater Protocol: " .. name)
    t:add(f.type, tvb:range(0, #name), name)
    if n < lo or n > hi or (name == "DMRD" and n == 54) then
        t:add_proto_expert_info(e_len, string.format("%s of %d bytes (expected %d..%d)", name, n,
                                                     lo, hi))
        pinfo.cols.info = name .. " (bad length)"
        return n
    end
    local m = #name
    if name ~= "DMRD" then
        if name == "RPTACK" then
            t:add(f.ack, tvb:range(6, 4))
            t:add(f.peer_id, tvb:range(6, 4))
        else
            t:add(f.peer_id, tvb:range(m, 4))
        end
        local info = name .. " " .. tvb:range(m, 4):uint()
        if name == "RPTK" then
            t:add(f.key, tvb:range(8, 32))
        elseif name == "RPTC" then
            dissectConfig(tvb, t)
            info = info .. " " .. tvb:range(8, 8):string():gsub("[ %z]+$", "")
        elseif (name == "RPTO" or name == "DMRA" or name == "DMRG" or name == "RPTG") and n > 8 then
            t:add(f.text, tvb:range(8, n - 8))
        end
        pinfo.cols.info = info
        return n
    end
    -- DMRD (MMDVMHost DMRNetwork.cpp write()/read())
    local b15 = tvb:range(15, 1):uint()
    local slot = bit.band(b15, 0x80) ~= 0 and 2 or 1
    local ft = bit.band(bit.rshift(b15, 4), 3)
    local dtv = bit.band(b15, 0x0F)
    local peer_id = tvb:range(11, 4):uint()
    t:add(f.seq, tvb:range(4, 1))
    t:add(f.src_id, tvb:range(5, 3))
    t:add(f.dst_id, tvb:range(8, 3))
    t:add(f.peer_id, tvb:range(11, 4))
    local ft_tree = t:add(f.flags, tvb:range(15, 1))
    ft_tree:add(f.slot, tvb:range(15, 1), slot)
    ft_tree:add(f.call, tvb:range(15, 1), bit.band(b15, 0x40) ~= 0 and "unit" or "group")
    ft_tree:add(f.frame_type, tvb:range(15, 1), FT_NAMES[ft])
    local what
    if ft == 2 then
        ft_tree:add(f.data_type, tvb:range(15, 1), DT_NAMES[dtv])
        what = DT_NAMES[dtv]
    elseif ft == 3 or dtv > 5 then
        ft_tree:add_proto_expert_info(e_ft)
        pinfo.cols.info = "DMRD (bad frame type)"
        return n
    else
        ft_tree:add(f.voice_burst, tvb:range(15, 1), string.char(65 + dtv))
        what = "voice " .. string.char(65 + dtv)
    end
    t:add(f.stream_id, tvb:range(16, 4))
    local extra = dissectBurst(tvb, pinfo, t, peer_id, slot, ft, dtv)
    if n == 55 then
        t:add(f.ber, tvb:range(53, 1))
        t:add(f.rssi, tvb:range(54, 1))
    end
    pinfo.cols.info = string.format("DMRD TS%d %d -> %s%d %s%s seq %d", slot,
                                    tvb:range(5, 3):uint(),
                                    bit.band(b15, 0x40) ~= 0 and "" or "TG ",
                                    tvb:range(8, 3):uint(), what, extra, tvb:range(4, 1):uint())
    return n
end

function p.dissector(tvb, pinfo, tree)
    return dissect(tvb, pinfo, tree)
end

local function heuristic(tvb, pinfo, tree)
    if not p.prefs.heuristic then return false end
    local name, lo, hi = classify(tvb)
    if not name or tvb:len() < lo or tvb:len() > hi then return false end
    if name == "DMRD" and tvb:len() == 54 then return false end
    dissect(tvb, pinfo, tree)
    pinfo.conversation = p
    return true
end

p:register_heuristic("udp", heuristic)

local registered_ports = ""
function p.prefs_changed()
    local udp = DissectorTable.get("udp.port")
    if registered_ports ~= "" then udp:remove(registered_ports, p) end
    registered_ports = tostring(p.prefs.ports)
    if registered_ports ~= "" then udp:add(registered_ports, p) end
end
DissectorTable.get("udp.port"):add(tostring(p.prefs.ports), p)
registered_ports = tostring(p.prefs.ports)
