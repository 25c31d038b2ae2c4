// SDS / KMM: a DMR radio's packet data through iwfd to an MC client (MCData SDS or
// interworking-data), or an MC client's SDS through iwfd to a DMR radio. The bytes must arrive
// unchanged. The P25 record set carries no data, so the radio must be a DMR one.
#include <random>

#include "harness/runner/lab.hpp"
#include "harness/sim/dmr_radio.hpp"
#include "lmr_adapters/dmr/hbp.hpp"

namespace iwf::harness {

namespace {

constexpr auto kDeliveryDeadline = std::chrono::seconds(4);

// The text (or the KMM head) and 16 random bytes: a payload no other step sends.
Bytes payloadOf(const ScenarioStep& st) {
    Bytes payload;
    if (st.action == StepAction::Kmm) {
        const std::string head = "KMM-harness-opaque:";
        payload.assign(head.begin(), head.end());
    } else {
        payload.assign(st.text.begin(), st.text.end());
        payload.push_back(' ');
    }
    std::random_device rd;
    for (int i = 0; i < 16; ++i) {
        payload.push_back(static_cast<std::uint8_t>(rd()));
    }
    return payload;
}

// Radio -> MC client: the radio's DMRD data packets (20 ms apart), then wait for the MC side
// to have received the payload unchanged.
void fromRadio(Lab& lab, StepRun& run, const ScenarioStep& st, const ScenarioRadio& radio,
               const Bytes& payload) {
    CallRecord& rec = run.rec;
    ReceiverTally& tally = rec.receivers[st.to];
    if (radio.family != LmrFamily::Dmr) {
        rec.outcome = "not run";
        run.log.fail("short data needs a DMR radio (the P25 record set carries no data)");
        return;
    }
    const ScenarioClient* dest = lab.sc.client(st.to);
    const std::uint32_t unit = dest != nullptr ? lab.clientUnit(dest->name) : 0;
    DmrRadioConfig rc;
    rc.name = radio.name;
    rc.src = radio.unit;
    rc.repeater_id = 310000 + radio.unit;
    rc.stream_id = static_cast<std::uint32_t>(std::random_device{}());
    DmrRadio d(rc);
    auto pks = d.sendData(DmrUnit{unit}, payload, st.action == StepAction::Kmm);
    if (!pks.ok()) {
        rec.outcome = "not run";
        run.log.fail("DMR data: " + pks.error().toString());
        return;
    }
    const std::size_t before = lab.mc->dataRecords().size();
    auto next = Clock::now();
    for (const auto& pk : *pks) {
        lab.radio_ports[radio.name]->send(lab.ports.dmr_master, lmr::dmr::encodeDmrd(pk));
        ++rec.sent;
        next += std::chrono::milliseconds(20);  // one data block per burst slot
        std::this_thread::sleep_until(next);
    }
    const bool kmm = st.action == StepAction::Kmm;
    waitUntil(Clock::now() + kDeliveryDeadline, std::chrono::milliseconds(20), [&] {
        const auto recs = lab.mc->dataRecords();
        tally.received = recs.size() - before;
        for (std::size_t i = before; i < recs.size(); ++i) {
            if (recs[i].payload == payload && recs[i].kmm == kmm) {
                tally.decrypted_ok = 1;
                rec.events.push_back(
                    {{"t_ms", lab.ms()},
                     {"what", std::string(recs[i].kmm ? "KMM" : "SDS") + " from " + recs[i].from +
                                  " to " + recs[i].to + ", " +
                                  std::to_string(recs[i].payload.size()) + " bytes, unchanged"}});
                return true;
            }
        }
        return false;
    });
}

// MC client -> radio: the client's MESSAGE to iwfd, then wait for the radio's DMRD packets to
// reassemble to the payload unchanged.
void toRadio(Lab& lab, StepRun& run, const ScenarioStep& st, const ScenarioClient& client,
             const Bytes& payload) {
    CallRecord& rec = run.rec;
    ReceiverTally& tally = rec.receivers[st.to];
    const ScenarioRadio* dest = lab.sc.radio(st.to);
    if (dest == nullptr || dest->family != LmrFamily::Dmr) {
        rec.outcome = "not run";
        run.log.fail("an SDS to the LMR side needs a DMR radio");
        return;
    }
    RadioPort& port = *lab.radio_ports[dest->name];
    const std::size_t mark = port.mark();
    const std::string r =
        lab.mc->sendSds(client.name, dest->mc_id, payload, std::chrono::seconds(3));
    rec.sent = 1;
    rec.events.push_back({{"t_ms", lab.ms()}, {"what", "MESSAGE to iwfd: " + r}});
    DmrRadioConfig rc;
    rc.name = dest->name;
    rc.src = dest->unit;
    rc.repeater_id = 310000 + dest->unit;
    DmrRadio rx(rc);
    std::vector<DmrDataReceived> got;
    rx.onData([&](const DmrDataReceived& x) { got.push_back(x); });
    std::size_t fed = mark;
    waitUntil(Clock::now() + kDeliveryDeadline, std::chrono::milliseconds(20), [&] {
        const auto all = port.received();
        for (; fed < all.size(); ++fed) {
            auto pk = lmr::dmr::decodeDmrd(all[fed].second);
            if (pk.ok()) {
                (void)rx.receiveData(*pk, all[fed].first);
            }
        }
        for (const auto& g : got) {
            if (g.payload == payload) {
                tally.decrypted_ok = 1;
            }
        }
        return tally.decrypted_ok == 1;
    });
    tally.received = got.size();
    if (tally.decrypted_ok == 1) {
        rec.events.push_back({{"t_ms", lab.ms()},
                              {"what", "radio " + dest->name + " got the SDS, " +
                                           std::to_string(payload.size()) + " bytes, unchanged"}});
    }
}

}  // namespace

void dataMessage(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    ReceiverTally& tally = run.rec.receivers[st.to];
    tally.expected = 1;
    const Bytes payload = payloadOf(st);
    if (const ScenarioRadio* radio = lab.sc.radio(st.who); radio != nullptr) {
        fromRadio(lab, run, st, *radio, payload);
    } else {
        toRadio(lab, run, st, *lab.sc.client(st.who), payload);
    }
    if (run.rec.outcome != "not run") {
        run.rec.outcome = tally.decrypted_ok == 1 ? "delivered" : "not delivered";
    }
}

}  // namespace iwf::harness
