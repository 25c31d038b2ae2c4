#!/usr/bin/env python3
"""tshark with OpenIWF's Lua dissectors (tools/wireshark/) against `iwfctl decode`.

For every golden capture, both tools decode the same packets; every field `iwfctl decode`
prints is compared with the dissector field that shows it (the maps below), packet by packet,
in both directions: a field one side has and the other lacks is a failure, as is a packet one
side claims and the other does not. An `iwfctl decode` key that no map names fails the test
too (a new decoder field must be given its dissector field). No packet of any capture may be
marked malformed (`_ws.malformed`), carry an expert item of error severity, or one of the
dissectors' own warnings (FEC/CRC failures).

Neither side is the oracle of the other: the dissectors follow the peers' sources
(MMDVMHost, DMRGateway, P25Gateway, NIST's ISSI tester; cited in each .lua), iwfctl is
OpenIWF's codecs; RTP header fields come from Wireshark's own RTP dissector. Agreement on real
captures (NIST's, and iwfd's traffic recorded by the harness) is what the test asserts.

usage: dissectors_test.py CASE --tshark T --iwfctl I --plugins DIR --data DIR [--text2pcap X]
CASE: hbp | records | issi | lmr-rtp
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# ----------------------------------------------------------------------------- value helpers


def as_int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    s = str(v)
    if s in ("True", "False"):
        return int(s == "True")
    return int(s, 0)


def as_hex(v):
    return str(v).replace(":", "").lower()


def as_str(v):
    return str(v)


# ----------------------------------------------------------------------------- tshark side

AGG = "\x1f"  # between the occurrences of one field (a byte no field value contains)
BASE = ["frame.number", "frame.protocols", "udp.length", "udp.dstport",
        "_ws.expert.severity", "_ws.expert.group", "_ws.expert.message"]
PI_WARN, PI_ERROR = 0x600000, 0x800000
PI_CHECKSUM, PI_MALFORMED = 0x01000000, 0x07000000
OURS = ("dmrhbp", "p25rec", "p25issi", "iwflmr")


def run_tshark(args, cap, prefs, fields):
    """tshark -T fields over the capture with every plugin: {frame: {field: [values]}} and
    the problems (malformed, expert errors, checksum/malformed items, and any expert warning
    in a packet one of our dissectors decoded)."""
    names = BASE + sorted(set(fields) - set(BASE))
    cmd = [args.tshark, "-n", "-r", cap, "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=" + AGG, "-E", "separator=\t"]
    for lua in sorted(os.listdir(args.plugins)):
        if lua.endswith(".lua"):
            cmd += ["-X", "lua_script:" + os.path.join(args.plugins, lua)]
    for p in prefs:
        cmd += ["-o", p]
    for n in names:
        cmd += ["-e", n]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"tshark failed ({res.returncode}): {res.stderr}")
    if "Lua" in res.stderr or "lua" in res.stderr:
        sys.exit(f"tshark reported a Lua problem: {res.stderr}")
    frames = {}
    problems = []
    for line in res.stdout.split("\n"):
        if not line:
            continue
        cols = line.split("\t")
        fr = {}
        for n, c in zip(names, cols):
            if c != "":
                fr[n] = c.split(AGG)
        num = int(fr["frame.number"][0])
        fr["_layers"] = fr.get("frame.protocols", [""])[0].split(":")
        frames[num] = fr
        sev = [as_int(v) for v in fr.get("_ws.expert.severity", [])]
        grp = [as_int(v) for v in fr.get("_ws.expert.group", [])]
        msg = fr.get("_ws.expert.message", [])
        ours = any(o in fr["_layers"] for o in OURS)
        if "_ws.malformed" in fr["_layers"]:
            problems.append(f"frame {num}: marked malformed {msg}")
        for i, sv in enumerate(sev):
            g = grp[i] if i < len(grp) else 0
            if sv >= PI_ERROR or g in (PI_CHECKSUM, PI_MALFORMED) or (ours and sv >= PI_WARN):
                problems.append(f"frame {num}: expert {msg[i] if i < len(msg) else ''}")
    return frames, problems


# ----------------------------------------------------------------------------- iwfctl side


def run_iwfctl(args, sub, cap, extra=()):
    res = subprocess.run([args.iwfctl, "decode", sub, cap, *extra], capture_output=True,
                         text=True)
    if res.returncode != 0:
        sys.exit(f"iwfctl decode {sub} {cap}: exit {res.returncode}: {res.stderr}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


# ----------------------------------------------------------------------------- comparison

class Checker:
    def __init__(self):
        self.failures = []
        self.compared = 0
        self.packets = 0

    def fail(self, msg):
        if len(self.failures) < 40:
            self.failures.append(msg)
        elif len(self.failures) == 40:
            self.failures.append("... (more failures not shown)")

    def compare(self, cap, num, expected, ts_frame, fields):
        """expected: {tshark field: [values]} from iwfctl; fields: {tshark field: normaliser}.
        Every field of `fields` is compared, so one side having it and the other not fails."""
        self.packets += 1
        for name, norm in fields.items():
            # (-T fields cannot tell an empty string from a missing field: neither counts)
            want = [norm(v) for v in expected.get(name, []) if v != ""]
            try:
                got = [norm(v) for v in ts_frame.get(name, []) if v != ""]
            except ValueError as e:
                self.fail(f"{cap} frame {num}: {name}: tshark value not parseable: {e}")
                continue
            if want != got:
                self.fail(f"{cap} frame {num}: {name}: iwfctl {want} != tshark {got}")
            self.compared += len(want)


def put(exp, name, value):
    exp.setdefault(name, []).append(value)


# HBP ------------------------------------------------------------------------

HBP_TOP = {"type": ("dmrhbp.type", as_str), "peer_id": ("dmrhbp.peer_id", as_int),
           "value": ("dmrhbp.ack", as_hex), "key": ("dmrhbp.key", as_hex),
           "text_hex": ("dmrhbp.text", as_hex), "seq": ("dmrhbp.seq", as_int),
           "src_id": ("dmrhbp.src_id", as_int), "dst_id": ("dmrhbp.dst_id", as_int),
           "slot": ("dmrhbp.slot", as_int), "call": ("dmrhbp.call", as_str),
           "frame_type": ("dmrhbp.frame_type", as_str),
           "data_type": ("dmrhbp.data_type", as_str),
           "voice_burst": ("dmrhbp.voice_burst", as_str),
           "stream_id": ("dmrhbp.stream_id", as_int), "ber": ("dmrhbp.ber", as_int),
           "rssi": ("dmrhbp.rssi", as_int), "burst": ("dmrhbp.burst", as_hex),
           "sync": ("dmrhbp.sync", as_str),
           "color_code": ("dmrhbp.slot_type.color_code", as_int)}
HBP_CONFIG = ["callsign", "rx_freq", "tx_freq", "tx_power", "color_code", "latitude",
              "longitude", "height", "location", "description", "slots", "url", "software_id",
              "package_id"]
HBP_SUB = {
    "emb": ("dmrhbp.emb.", {"color_code": as_int, "pi": as_int, "lcss": as_int}),
    "pi_header": ("dmrhbp.pi.", {"group": as_int, "algid": as_int, "fid": as_int,
                                 "key_id": as_int, "iv": as_hex, "dst": as_int}),
    "lc": ("dmrhbp.lc.", {"flco": as_int, "fid": as_int, "service_options": as_int,
                          "privacy": as_int, "emergency": as_int, "dst": as_int,
                          "src": as_int}),
    "embedded_lc": ("dmrhbp.embedded_lc.", {"flco": as_int, "fid": as_int,
                                            "service_options": as_int, "privacy": as_int,
                                            "emergency": as_int, "dst": as_int,
                                            "src": as_int}),
}
# Keys of `iwfctl decode hbp` that are not packet fields: where the packet is (frame, time,
# addresses), and how many bits iwfd's FEC corrected (the dissector does not correct; a
# non-zero count would show there as an expert warning, which fails the test anyway).
HBP_NOT_FIELDS = {"frame", "time", "src", "dst", "corrected_bits"}


def hbp_fields():
    fields = {v[0]: v[1] for v in HBP_TOP.values()}
    fields.update({"dmrhbp.config." + c: as_str for c in HBP_CONFIG})
    for prefix, sub in HBP_SUB.values():
        fields.update({prefix + k: n for k, n in sub.items()})
    return fields


def hbp_expected(j, chk, where):
    exp = {}
    for k, v in j.items():
        if k in HBP_NOT_FIELDS or k == "len":
            continue
        if k in HBP_TOP:
            put(exp, HBP_TOP[k][0], v)
        elif k == "config":
            for ck, cv in v.items():
                if ck not in HBP_CONFIG:
                    chk.fail(f"{where}: iwfctl config key {ck!r} has no dissector field")
                put(exp, "dmrhbp.config." + ck, cv)
        elif k in HBP_SUB:
            prefix, sub = HBP_SUB[k]
            for sk, sv in v.items():
                if sk not in sub:
                    chk.fail(f"{where}: iwfctl key {k}.{sk} has no dissector field")
                put(exp, prefix + sk, sv)
        else:
            chk.fail(f"{where}: iwfctl key {k!r} has no dissector field ({j.get(k)})")
    return exp


def hex_dump_to_pcap(args, hexfile, tmp):
    """The datagrams of a hex dump (one per line) as UDP in a pcap, by text2pcap (Wireshark's
    own tool), so tshark reads the very bytes `iwfctl decode` reads from the dump."""
    txt = os.path.join(tmp, os.path.basename(hexfile) + ".txt")
    with open(hexfile) as f, open(txt, "w") as o:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            h = line.replace(" ", "")
            bs = [h[i:i + 2] for i in range(0, len(h), 2)]
            for off in range(0, len(bs), 16):
                o.write("%06x %s\n" % (off, " ".join(bs[off:off + 16])))
    out = os.path.join(tmp, os.path.basename(hexfile) + ".pcap")
    subprocess.run([args.text2pcap, "-q", "-u", "50000,62031", txt, out], check=True)
    return out


def case_hbp(args, chk, tmp, only_hex_dump=False):
    hex_dump = os.path.join(args.data, "lmr_dmr", "encrypted_call.hex")
    caps = [(hex_dump_to_pcap(args, hex_dump, tmp), hex_dump)]
    if not only_hex_dump:
        messages = os.path.join(args.data, "wireshark", "hbp_messages.hex")
        caps.append((hex_dump_to_pcap(args, messages, tmp), messages))
        caps.append((os.path.join(args.data, "wireshark", "dmr_call.pcapng"), None))
    fields = hbp_fields()
    for cap, source in caps:
        frames, problems = run_tshark(args, cap, [], list(fields) + ["dmrhbp.type"])
        for p in problems:
            chk.fail(f"{cap}: {p}")
        # `iwfctl decode hbp` reads every datagram as HBP: give it the master's port (the
        # destination of the first RPTL, as tshark saw it).
        port = next((fr["udp.dstport"][0] for fr in frames.values()
                     if fr.get("dmrhbp.type") == ["RPTL"] and "udp.dstport" in fr), None)
        lines = run_iwfctl(args, "hbp", source or cap, [] if source else ["--port", port])
        claimed = {n for n, fr in frames.items() if "dmrhbp" in fr["_layers"]}
        decoded = set()
        for j in lines:
            num = j["frame"]
            where = f"{os.path.basename(cap)} frame {num}"
            if "error" in j:
                chk.fail(f"{where}: iwfctl error {j['error']}")
                continue
            decoded.add(num)
            exp = hbp_expected(j, chk, where)
            fr = frames.get(num, {})
            if "udp.length" in fr and as_int(fr["udp.length"][0]) - 8 != j["len"]:
                chk.fail(f"{where}: len {j['len']} != UDP payload {fr['udp.length']}")
            chk.compare(os.path.basename(cap), num, exp, fr, fields)
        for n in sorted(claimed ^ decoded):
            chk.fail(f"{os.path.basename(cap)} frame {n}: "
                     f"{'only tshark' if n in claimed else 'only iwfctl'} decodes it as HBP")


# P25 records ----------------------------------------------------------------

REC_TOP = {"record": ("p25rec.record", as_str), "tag": ("p25rec.tag", as_int),
           "index": ("p25rec.index", as_int), "imbe": ("p25rec.imbe", as_hex),
           "side": ("p25rec.side", as_hex), "lcf": ("p25rec.lcf", as_int),
           "protected_lc": ("p25rec.protected_lc", as_int), "mfid": ("p25rec.mfid", as_int),
           "service_options": ("p25rec.service_options", as_int),
           "dst_id": ("p25rec.dst", as_int), "src_id": ("p25rec.src_id", as_int),
           "es": ("p25rec.es", as_hex), "lsd": ("p25rec.lsd", as_hex),
           "callsign": ("p25rec.callsign", as_str)}
# `superframe` and `crypto` are iwfd's CryptoTracker state for the stream (the MI of the
# current superframe is announced in the previous one and back-filled by the LFSR for the
# first): not fields of the record. The record's own crypto bytes are compared through `es`
# and, split, as ALGID / KID / MI fragment below.
REC_NOT_FIELDS = {"frame", "time", "src", "dst", "superframe", "crypto"}


def case_records(args, chk, tmp):
    cap = os.path.join(args.data, "wireshark", "p25_call.pcapng")
    fields = {v[0]: v[1] for v in REC_TOP.values()}
    fields.update({"p25rec.algid": as_int, "p25rec.kid": as_int,
                   "p25rec.mi_fragment": as_hex})
    frames, problems = run_tshark(args, cap, ["p25rec.heuristic:TRUE"], list(fields))
    for p in problems:
        chk.fail(f"{cap}: {p}")
    # `iwfctl decode p25-records` reads every datagram as a record: only the records link's
    # conversation is given to it (the port of the first poll), through the same capture.
    polls = [n for n, fr in frames.items() if "p25rec" in fr["_layers"]]
    port = None
    for n in polls:
        if frames[n].get("p25rec.record") == ["poll"]:
            port = as_int(frames[n]["udp.dstport"][0])
            break
    if port is None:
        chk.fail("no poll in the records capture")
        return
    sub = os.path.join(tmp, "records_only.pcapng")
    subprocess.run([args.tshark, "-r", cap, "-Y", f"udp.port=={port}", "-w", sub], check=True,
                   capture_output=True)
    sub_frames, _ = run_tshark(args, sub, [f"p25rec.ports:{port}"], list(fields))
    lines = run_iwfctl(args, "p25-records", sub)
    claimed = {n for n, fr in sub_frames.items() if "p25rec" in fr["_layers"]}
    decoded = set()
    for j in lines:
        num = j["frame"]
        where = f"records frame {num}"
        if "error" in j:
            chk.fail(f"{where}: iwfctl error {j['error']}")
            continue
        decoded.add(num)
        exp = {}
        for k, v in j.items():
            if k in REC_NOT_FIELDS:
                continue
            if k not in REC_TOP:
                chk.fail(f"{where}: iwfctl key {k!r} has no dissector field")
                continue
            put(exp, REC_TOP[k][0], v)
        if "tag" not in j:
            # iwfctl names the record; its tag is fixed by the name (0xF0 poll, 0xF1 unlink,
            # 0x80 end: docs/protocols/p25-network-records.md)
            put(exp, "p25rec.tag", {"poll": 0xF0, "unlink": 0xF1, "end": 0x80}[j["record"]])
        tag = as_int(j.get("tag", "0"))
        if "es" in j and tag == 0x70:
            put(exp, "p25rec.algid", int(j["es"][0:2], 16))
            put(exp, "p25rec.kid", int(j["es"][2:6], 16))
        elif "es" in j:
            put(exp, "p25rec.mi_fragment", j["es"])
        chk.compare("p25_call.pcapng", num, exp, sub_frames.get(num, {}), fields)
    for n in sorted(claimed ^ decoded):
        chk.fail(f"records frame {n}: {'only tshark' if n in claimed else 'only iwfctl'}")
    # The heuristic (whole capture, no port given) must find exactly the same records.
    whole = sum(1 for fr in frames.values() if "p25rec" in fr["_layers"])
    if whole != len(decoded):
        chk.fail(f"heuristic: {whole} records in the whole capture, iwfctl {len(decoded)}")


# ISSI -------------------------------------------------------------------------

ISSI_BLOCK = {"type": ("p25issi.block.type", as_int), "tso": ("p25issi.block.tso", as_int),
              "block": ("p25issi.block.kind", as_str),
              "packet_type": ("p25issi.ptype.name", as_str),
              "pt": ("p25issi.ptype.type", as_int), "mute": ("p25issi.ptype.mute", as_int),
              "service_options": ("p25issi.ptype.service_options", as_int),
              "tsn": ("p25issi.ptype.tsn", as_int),
              "losing_audio": ("p25issi.ptype.losing_audio", as_int),
              "heartbeat": ("p25issi.ptype.heartbeat", as_int),
              "unit": ("p25issi.pcw.unit_text", as_str),
              "priority": ("p25issi.pcw.priority", as_int), "mi": ("p25issi.hw.mi", as_hex),
              "algid": ("p25issi.hw.algid", as_int), "kid": ("p25issi.hw.kid", as_int),
              "mfid": ("p25issi.hw.mfid", as_int), "group": ("p25issi.hw.group", as_int),
              "nid": ("p25issi.hw.nid", as_int), "sf": ("p25issi.hw.sf", as_int),
              "vbb": ("p25issi.hw.vbb", as_int), "ft": ("p25issi.imbe.ft", as_int),
              "index": ("p25issi.imbe.index", as_int),
              "imbe": ("p25issi.imbe.codeword", as_hex),
              "status": ("p25issi.imbe.status", as_hex),
              "extra": ("p25issi.imbe.extra", as_hex), "bytes": ("p25issi.opaque", as_hex)}
ISSI_TOP = {"seq": ("rtp.seq", as_int), "ts": ("rtp.timestamp", as_int),
            "ssrc": ("rtp.ssrc", as_int), "signal": ("p25issi.signal", as_int),
            "compact": ("p25issi.compact", as_int)}


def case_issi(args, chk, tmp):
    fields = {v[0]: v[1] for v in list(ISSI_BLOCK.values()) + list(ISSI_TOP.values())}
    for name in ("VHF_UHF_ISSI.pcap", "subnet_test.pcap", "all_call_demo_successful.pcap"):
        cap = os.path.join(args.data, "issi", name)
        frames, problems = run_tshark(args, cap, [], list(fields))
        for p in problems:
            chk.fail(f"{name}: {p}")
        lines = run_iwfctl(args, "issi", cap)
        # (an ICMP error quoting an ISSI packet is dissected inside the ICMP by tshark; iwfctl
        # reads UDP datagrams only)
        claimed = {n for n, fr in frames.items()
                   if "p25issi" in fr["_layers"] and "icmp" not in fr["_layers"]}
        decoded = set()
        for j in lines:
            if j.get("kind") != "issi":
                if "error" in j:
                    chk.fail(f"{name} frame {j['frame']}: iwfctl error {j['error']}")
                continue
            num = j["frame"]
            where = f"{name} frame {num}"
            if "error" in j:
                chk.fail(f"{where}: iwfctl error {j['error']}")
                continue
            decoded.add(num)
            exp = {}
            for k, v in j.items():
                if k in ("frame", "time", "src", "dst", "kind"):
                    continue
                if k == "blocks":
                    for b in v:
                        # the dissector shows every block's TSO; iwfctl omits a zero one
                        b = dict(b)
                        b.setdefault("tso", 0)
                        for bk, bv in b.items():
                            if bk not in ISSI_BLOCK:
                                chk.fail(f"{where}: iwfctl block key {bk!r} has no field")
                                continue
                            put(exp, ISSI_BLOCK[bk][0], bv)
                elif k in ISSI_TOP:
                    put(exp, ISSI_TOP[k][0], v)
                else:
                    chk.fail(f"{where}: iwfctl key {k!r} has no dissector field")
            chk.compare(name, num, exp, frames.get(num, {}), fields)
        for n in sorted(claimed ^ decoded):
            chk.fail(f"{name} frame {n}: {'only tshark' if n in claimed else 'only iwfctl'}")


# X-IWF-LMR --------------------------------------------------------------------

LMR_FIELDS = {"marker": ("rtp.marker", as_int), "pt": ("rtp.p_type", as_int),
              "seq": ("rtp.seq", as_int), "ts": ("rtp.timestamp", as_int),
              "ssrc": ("rtp.ssrc", as_int)}
for _k in ("version", "encrypted", "family", "codec", "index", "superframe", "algid", "key_id",
           "mi_len", "payload_len", "side_len"):
    LMR_FIELDS[_k] = ("iwflmr." + _k, as_int)
for _k in ("mi", "payload", "side"):
    LMR_FIELDS[_k] = ("iwflmr." + _k, as_hex)
# Names of the family and codec numbers (compared as the numbers they name).
LMR_NAMES = {"family_name", "codec_name"}


def case_lmr_rtp(args, chk, tmp):
    fields = {v[0]: v[1] for v in LMR_FIELDS.values()}
    for name in ("p25_call.pcapng", "dmr_call.pcapng"):
        cap = os.path.join(args.data, "wireshark", name)
        frames, problems = run_tshark(args, cap, ["p25rec.heuristic:TRUE"], list(fields))
        for p in problems:
            chk.fail(f"{name}: {p}")
        lines = run_iwfctl(args, "lmr-rtp", cap)
        claimed = {n for n, fr in frames.items() if "iwflmr" in fr["_layers"]}
        decoded = set()
        for j in lines:
            num = j["frame"]
            where = f"{name} frame {num}"
            if "error" in j:
                chk.fail(f"{where}: iwfctl error {j['error']}")
                continue
            decoded.add(num)
            exp = {}
            for k, v in j.items():
                if k in ("frame", "src", "dst") or k in LMR_NAMES:
                    continue
                if k not in LMR_FIELDS:
                    chk.fail(f"{where}: iwfctl key {k!r} has no dissector field")
                    continue
                if LMR_FIELDS[k][1] is as_hex and v == "":
                    continue  # an empty MI / side: the dissector shows no such field
                put(exp, LMR_FIELDS[k][0], v)
            chk.compare(name, num, exp, frames.get(num, {}), fields)
        for n in sorted(claimed ^ decoded):
            chk.fail(f"{name} frame {n}: {'only tshark' if n in claimed else 'only iwfctl'}")
        if not decoded:
            chk.fail(f"{name}: no X-IWF-LMR packet")


def case_selftest(args, chk, tmp):
    """The comparison can fail: with one dissector field read one byte off (the PI header's
    key ID from byte 1, the FID, instead of byte 2) the HBP case must report exactly that
    field; and a DMRD cut short and an HBP login of the wrong length must be flagged by the
    malformed check."""
    broken = os.path.join(tmp, "plugins")
    os.mkdir(broken)
    for lua in os.listdir(args.plugins):
        if lua.endswith(".lua"):
            text = open(os.path.join(args.plugins, lua)).read()
            if lua == "iwf_dmr_hbp.lua":
                good = "t:add(f.pi_key_id, itvb:range(2, 1))"
                if good not in text:
                    chk.fail("selftest: the PI key ID line to break is not in iwf_dmr_hbp.lua")
                text = text.replace(good, "t:add(f.pi_key_id, itvb:range(1, 1))")
            open(os.path.join(broken, lua), "w").write(text)
    inner = Checker()
    case_hbp(argparse.Namespace(**{**vars(args), "plugins": broken}), inner, tmp, True)
    chk.packets += inner.packets
    if not any("dmrhbp.pi.key_id: iwfctl [42] != tshark [16]" in f for f in inner.failures):
        chk.fail(f"selftest: a PI key ID read from the wrong byte was not caught: {inner.failures}")
    if any("pi.key_id" not in f for f in inner.failures):
        chk.fail(f"selftest: failures other than the broken field: {inner.failures}")
    bad = os.path.join(tmp, "bad.hex")
    with open(bad, "w") as o:
        o.write("52 50 54 4c 00 04 c2 c0 00\n")  # RPTL with a 9th byte (8 expected)
        o.write("44 4d 52 44 00 2f 9b e1 00 00 5b 00 04 c2 c0 a1 a1 b2 c3 d4 00 01\n")  # DMRD, 22 B
    frames, problems = run_tshark(args, hex_dump_to_pcap(args, bad, tmp), [], ["dmrhbp.type"])
    for n in (1, 2):
        if not any(p.startswith(f"frame {n}:") for p in problems):
            chk.fail(f"selftest: malformed HBP frame {n} not flagged ({problems})")


CASES = {"hbp": case_hbp, "records": case_records, "issi": case_issi, "lmr-rtp": case_lmr_rtp,
         "selftest": case_selftest}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--tshark", required=True)
    ap.add_argument("--iwfctl", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--text2pcap", default="text2pcap")
    args = ap.parse_args()
    chk = Checker()
    with tempfile.TemporaryDirectory() as tmp:
        CASES[args.case](args, chk, tmp)
    if chk.packets == 0:
        chk.fail("no packet compared")
    print(f"{args.case}: {chk.packets} packets, {chk.compared} field values compared")
    if chk.failures:
        print("FAILED:\n  " + "\n  ".join(chk.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
