#pragma once
// Test support: validates an XML body with libxml2's xmllint (Debian libxml2-utils) against a
// schema set in tests/data/xsd (README.md there names each schema's source). The oracle is
// the published schema and an independent validator, never the code that built the body.
//
//   EXPECT_TRUE(iwf::test::validatesAgainst(xml, "mcptt-info.xsd"));
//
// The target defines IWF_XMLLINT (path of xmllint) and IWF_XSD_DIR (tests/data/xsd).

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace iwf::test {

inline std::string xsdPath(const std::string& schema) {
    return std::string(IWF_XSD_DIR) + "/" + schema;
}

// Runs `xmllint --noout --nonet --schema SCHEMA FILE`; success when xmllint exits 0. The
// failure message carries xmllint's own report and the document.
inline ::testing::AssertionResult validatesAgainst(std::string_view xml,
                                                   const std::string& schema) {
    char path[] = "/tmp/iwf-xsd-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd < 0) {
        return ::testing::AssertionFailure() << "mkstemp failed";
    }
    ::close(fd);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(xml.data(), static_cast<std::streamsize>(xml.size()));
    }
    std::string cmd = std::string(IWF_XMLLINT) + " --noout --nonet --schema '" + xsdPath(schema) +
                      "' '" + path + "' 2>&1";
    std::string report;
    int status = -1;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p) != nullptr) {
            report += buf;
        }
        status = ::pclose(p);
    }
    ::unlink(path);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "xmllint against " << schema << ":\n"
                                         << report << "document:\n"
                                         << xml;
}

}  // namespace iwf::test
