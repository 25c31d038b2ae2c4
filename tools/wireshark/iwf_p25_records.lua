-- Wireshark dissector: P25 open-network records, as MMDVMHost, P25Gateway, P25Reflector and
-- OpenIWF's iwfd exchange them over UDP (one record per datagram, no header).
--
-- Part of OpenIWF (tools/wireshark/, README.md there). Protocol note:
-- docs/protocols/p25-network-records.md. Wire facts follow the peers' sources:
--   record tags, lengths and byte positions   MMDVMHost P25Network.cpp writeLDU1 / writeLDU2 /
--                                             writeEnd, P25Control.cpp createNetLDU1/2
--                                             (the Motorola V.24 DFSI record set)
--   poll / unlink (0xF0 / 0xF1 + callsign)    P25Gateway Network.cpp (writePoll, writeUnlink),
--                                             DVReflectors P25Reflector.cpp run()
-- The IMBE codeword (11 bytes, u0..u7) is shown as bytes: it may be encrypted, and nothing here
-- decodes voice. LDU1 frames 3..5 carry the link control (LCF/MFID/service options, TG,
-- source), LDU2 frames 12..15 the encryption sync of the NEXT superframe (MI thirds, ALGID,
-- KID), frames 9 and 18 the low speed data.
--
-- Registration: UDP port(s) in the preference "p25rec.ports" (default 41000, the port of
-- P25Reflector and the P25Gateway network side) and a heuristic (first byte a known tag and
-- the exact length of that tag), off by default (17-byte datagrams starting 0x64 are not rare
-- enough to claim every UDP port): enable it with -o p25rec.heuristic:TRUE.

local bit = bit32

local p = Proto("p25rec", "P25 network records (MMDVM)")

local RECORD_NAMES = {}
for t = 0x62, 0x6A do RECORD_NAMES[t] = "ldu1" end
for t = 0x6B, 0x73 do RECORD_NAMES[t] = "ldu2" end
RECORD_NAMES[0x80] = "end"
RECORD_NAMES[0xF0] = "poll"
RECORD_NAMES[0xF1] = "unlink"

local TAG_TEXT = {
    [0x62] = "LDU1 frame 1 (start of LDU1)", [0x63] = "LDU1 frame 2",
    [0x64] = "LDU1 frame 3 (LCF, MFID, service options)", [0x65] = "LDU1 frame 4 (destination)",
    [0x66] = "LDU1 frame 5 (source)", [0x67] = "LDU1 frame 6 (RS parity)",
    [0x68] = "LDU1 frame 7 (RS parity)", [0x69] = "LDU1 frame 8 (RS parity)",
    [0x6A] = "LDU1 frame 9 (LSD)", [0x6B] = "LDU2 frame 10 (start of LDU2)",
    [0x6C] = "LDU2 frame 11", [0x6D] = "LDU2 frame 12 (MI bytes 0-2)",
    [0x6E] = "LDU2 frame 13 (MI bytes 3-5)", [0x6F] = "LDU2 frame 14 (MI bytes 6-8)",
    [0x70] = "LDU2 frame 15 (ALGID, KID)", [0x71] = "LDU2 frame 16 (RS parity)",
    [0x72] = "LDU2 frame 17 (RS parity)", [0x73] = "LDU2 frame 18 (LSD)",
    [0x80] = "end of transmission", [0xF0] = "poll / link", [0xF1] = "unlink",
}

-- [tag] = {length, offset of the IMBE codeword}: MMDVMHost P25Network.cpp writeLDU1/2
local LAYOUT = {[0x62] = {22, 10}, [0x6B] = {22, 10}, [0x63] = {14, 1}, [0x6C] = {14, 1},
                [0x6A] = {16, 4}, [0x73] = {16, 4}}
for t = 0x64, 0x69 do LAYOUT[t] = {17, 5} end
for t = 0x6D, 0x72 do LAYOUT[t] = {17, 5} end

local ALG_NAMES = {[0x80] = "clear", [0x81] = "DES-OFB", [0x83] = "3DES", [0x84] = "AES-256",
                   [0x85] = "AES-128", [0xAA] = "ADP (RC4)"}

local f = {
    tag = ProtoField.uint8("p25rec.tag", "Tag", base.HEX, TAG_TEXT),
    record = ProtoField.string("p25rec.record", "Record"),
    index = ProtoField.uint8("p25rec.index", "Frame index in the superframe (0-17)"),
    header = ProtoField.bytes("p25rec.ldu_header", "Start-of-LDU header"),
    imbe = ProtoField.bytes("p25rec.imbe", "IMBE codeword (u0..u7)"),
    side = ProtoField.bytes("p25rec.side", "Side bytes (all but tag and IMBE)"),
    status = ProtoField.bytes("p25rec.status", "Status bytes"),
    spare = ProtoField.bytes("p25rec.spare", "Spare byte (before the codeword)"),
    lcf = ProtoField.uint8("p25rec.lcf", "LCF / LCO", base.HEX),
    protected = ProtoField.bool("p25rec.protected_lc", "Protected (encrypted) LC"),
    mfid = ProtoField.uint8("p25rec.mfid", "MFID", base.HEX),
    so = ProtoField.uint8("p25rec.service_options", "Service options", base.HEX),
    so_emerg = ProtoField.bool("p25rec.service_options.emergency", "Emergency"),
    so_enc = ProtoField.bool("p25rec.service_options.encrypted", "Encrypted"),
    dst = ProtoField.uint24("p25rec.dst", "Destination (talkgroup)"),
    src = ProtoField.uint24("p25rec.src_id", "Source unit ID"),
    rs = ProtoField.bytes("p25rec.rs_parity", "RS parity"),
    es = ProtoField.bytes("p25rec.es", "Encryption sync fragment (next superframe)"),
    mi = ProtoField.bytes("p25rec.mi_fragment", "MI fragment (next superframe)"),
    algid = ProtoField.uint8("p25rec.algid", "ALGID (next superframe)", base.HEX, ALG_NAMES),
    kid = ProtoField.uint16("p25rec.kid", "Key ID (next superframe)", base.HEX),
    lsd = ProtoField.bytes("p25rec.lsd", "Low speed data"),
    rest = ProtoField.bytes("p25rec.rest", "Rest of the end record"),
    callsign = ProtoField.string("p25rec.callsign", "Callsign"),
}
local fl = {}
for _, v in pairs(f) do fl[#fl + 1] = v end
p.fields = fl

local e_len = ProtoExpert.new("p25rec.bad_length", "Length does not match the record tag",
                              expert.group.MALFORMED, expert.severity.ERROR)
local e_tag = ProtoExpert.new("p25rec.unknown_tag", "Unknown record tag", expert.group.MALFORMED,
                              expert.severity.ERROR)
p.experts = {e_len, e_tag}

p.prefs.heuristic = Pref.bool("Heuristic on UDP", false,
                              "Recognise records on any UDP port by tag and exact length")
p.prefs.ports = Pref.range("UDP ports", "41000", "Ports carrying P25 network records", 65535)

local function expectedLength(tag)
    if LAYOUT[tag] then return LAYOUT[tag][1] end
    if tag == 0x80 then return 17 end
    if tag == 0xF0 or tag == 0xF1 then return 11 end
    return nil
end

local function dissect(tvb, pinfo, tree)
    local n = tvb:len()
    if n < 1 then return 0 end
    pinfo.cols.protocol = "P25 records"
    local tag = tvb:range(0, 1):uint()
    local t = tree:add(p, tvb())
    t:add(f.tag, tvb:range(0, 1))
    local want = expectedLength(tag)
    if not want then
        t:add_proto_expert_info(e_tag)
        pinfo.cols.info = string.format("unknown tag 0x%02x", tag)
        return n
    end
    t:add(f.record, tvb:range(0, 1), RECORD_NAMES[tag])
    t:set_text("P25 network record: " .. TAG_TEXT[tag])
    if n ~= want then
        t:add_proto_expert_info(e_len, string.format("0x%02x of %d bytes (expected %d)", tag, n,
                                                     want))
        pinfo.cols.info = string.format("0x%02x bad length %d", tag, n)
        return n
    end
    if tag == 0xF0 or tag == 0xF1 then
        local cs = tvb:range(1, 10):string():gsub("[ %z]+$", "")
        t:add(f.callsign, tvb:range(1, 10), cs)
        pinfo.cols.info = RECORD_NAMES[tag] .. " " .. cs
        return n
    end
    if tag == 0x80 then
        t:add(f.rest, tvb:range(1, 16))
        pinfo.cols.info = "end of transmission"
        return n
    end
    local lay = LAYOUT[tag]
    local io = lay[2]
    local index = tag - 0x62
    t:add(f.index, tvb:range(0, 1), index)
    t:add(f.imbe, tvb:range(io, 11))
    -- side bytes in record order: before the codeword, then after it (what iwfd keeps)
    local side = ByteArray.new()
    if io > 1 then side:append(tvb:range(1, io - 1):bytes()) end
    if io + 11 < n then side:append(tvb:range(io + 11, n - io - 11):bytes()) end
    t:add(f.side, side:tvb("Side bytes"):range(0, side:len()))
    local info = string.format("%s %s (index %d)", RECORD_NAMES[tag]:upper(),
                               string.format("0x%02x", tag), index)
    if tag == 0x62 or tag == 0x6B then
        t:add(f.header, tvb:range(1, 9))
    elseif tag == 0x64 then
        local lcf = tvb:range(1, 1):uint()
        local so = tvb:range(3, 1):uint()
        t:add(f.lcf, tvb:range(1, 1))
        t:add(f.protected, tvb:range(1, 1), bit.band(lcf, 0x80) ~= 0)
        t:add(f.mfid, tvb:range(2, 1))
        local st = t:add(f.so, tvb:range(3, 1))
        st:add(f.so_emerg, tvb:range(3, 1), bit.band(so, 0x80) ~= 0)
        st:add(f.so_enc, tvb:range(3, 1), bit.band(so, 0x40) ~= 0)
        info = info .. string.format(" LCF 0x%02x", lcf)
    elseif tag == 0x65 then
        t:add(f.dst, tvb:range(1, 3))
        info = info .. " TG " .. tvb:range(1, 3):uint()
    elseif tag == 0x66 then
        t:add(f.src, tvb:range(1, 3))
        info = info .. " src " .. tvb:range(1, 3):uint()
    elseif (tag >= 0x67 and tag <= 0x69) or tag == 0x71 or tag == 0x72 then
        t:add(f.rs, tvb:range(1, 3))
    elseif tag >= 0x6D and tag <= 0x6F then
        t:add(f.es, tvb:range(1, 3))
        t:add(f.mi, tvb:range(1, 3))
        info = info .. " MI " .. tostring(tvb:range(1, 3):bytes()):lower()
    elseif tag == 0x70 then
        t:add(f.es, tvb:range(1, 3))
        t:add(f.algid, tvb:range(1, 1))
        t:add(f.kid, tvb:range(2, 2))
        info = info .. string.format(" ALGID 0x%02x KID 0x%04x", tvb:range(1, 1):uint(),
                                     tvb:range(2, 2):uint())
    elseif tag == 0x6A or tag == 0x73 then
        t:add(f.lsd, tvb:range(1, 2))
    end
    -- the bytes after the codeword (status / spare), MMDVMHost writes fixed values there
    if io + 11 < n then t:add(f.status, tvb:range(io + 11, n - io - 11)) end
    if tag ~= 0x62 and tag ~= 0x6B and io > 1 and tag ~= 0x6A and tag ~= 0x73 then
        -- byte 4 of the 17-byte records (between the 3 data bytes and the codeword)
        t:add(f.spare, tvb:range(4, 1))
    elseif (tag == 0x6A or tag == 0x73) then
        t:add(f.spare, tvb:range(3, 1))
    end
    pinfo.cols.info = info
    return n
end

function p.dissector(tvb, pinfo, tree)
    return dissect(tvb, pinfo, tree)
end

local function heuristic(tvb, pinfo, tree)
    if not p.prefs.heuristic or tvb:len() < 1 then return false end
    local want = expectedLength(tvb:range(0, 1):uint())
    if not want or want ~= tvb:len() then return false end
    dissect(tvb, pinfo, tree)
    return true
end
p:register_heuristic("udp", heuristic)

local registered_ports = tostring(p.prefs.ports)
DissectorTable.get("udp.port"):add(registered_ports, p)
function p.prefs_changed()
    local udp = DissectorTable.get("udp.port")
    if registered_ports ~= "" then udp:remove(registered_ports, p) end
    registered_ports = tostring(p.prefs.ports)
    if registered_ports ~= "" then udp:add(registered_ports, p) end
end
