#pragma once
// The harness MC system's conformance check of what iwfd sends it (issue 14): an MC server,
// GMS or MCData server from another vendor validates bodies against the 3GPP schemas and
// matches service headers byte for byte. This check does the same without any of OpenIWF's
// MC encoders or parsers: headers and multipart bodies are split here with plain string
// operations, header values are compared with strings typed from the specifications, and the
// XML bodies are validated by libxml2's xmllint against tests/data/xsd (README.md there names
// each schema's source and version).
//
//   McConformance check(IWF_XSD_DIR);
//   for (auto& v : check.checkRequest(wire_text)) ...   // empty: conformant
//
// What is checked, per request iwfd sends the MC side:
//   initial INVITE  Accept-Contact (+g.3gpp.mcptt and the percent-encoded MCPTT ICSI),
//                   P-Asserted-Service, Contact with both feature tags, multipart/mixed with
//                   application/sdp and an mcptt-info that validates (TS 24.379 F.1)
//   PUBLISH         Accept-Contact and P-Asserted-Service of MCPTT
//   MESSAGE (SDS)   Accept-Contact of MCData SDS, P-Asserted-Service, an mcdata-info that
//                   validates (TS 24.282 D.1), an mcdata-signalling part whose first octet is
//                   a message type of TS 24.282 Table 15.2.2-1 (0x01 signalling, 0x05
//                   notification)
//   MESSAGE (interworking security data)  MCPTT service headers, mcptt-info that validates

#include <string>
#include <string_view>
#include <vector>

namespace iwf::harness {

class McConformance {
  public:
    explicit McConformance(std::string xsd_dir, std::string xmllint = "/usr/bin/xmllint");
    // The violations in one request (its text as received); empty when conformant.
    std::vector<std::string> checkRequest(std::string_view wire) const;
    // xmllint's verdict on one XML document against tests/data/xsd/<driver>: empty when it
    // validates, else xmllint's report.
    std::string validate(std::string_view xml, const std::string& driver) const;

  private:
    std::string xsd_dir_;
    std::string xmllint_;
};

}  // namespace iwf::harness
