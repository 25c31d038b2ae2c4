// tools/completion/iwfctl.bash in a real bash with Debian's bash-completion loaded: it offers
// iwfctl's commands, the options of the command typed and files for file options, read from
// the iwfctl binary's own --help (so a command added to iwfctl is completed without a change
// to the script).
#include <gtest/gtest.h>

#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::test {
namespace {

// What `words...<TAB>` completes to (COMPREPLY, space separated, sorted).
std::string complete(const std::vector<std::string>& words) {
    std::string list = std::string("'") + IWFCTL_BIN + "'";
    for (const auto& w : words) {
        list += " '" + w + "'";
    }
    const std::string script =
        "source /usr/share/bash-completion/bash_completion\n"
        "source '" IWF_SOURCE_DIR
        "/tools/completion/iwfctl.bash'\n"
        "COMP_WORDS=(" +
        list +
        ")\n"
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
        "_iwfctl\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\" | sort | tr '\\n' ' '\n";
    CommandResult r = runCommand({"/bin/bash", "-c", script}, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
}

TEST(IwfctlCompletion, CommandsOptionsAndFilesFromTheBinarysOwnHelp) {
    EXPECT_EQ(complete({"ca"}), "call calls ");
    EXPECT_EQ(complete({"re"}), "refusals reload ");
    EXPECT_EQ(complete({"call", ""}), "show ");
    EXPECT_EQ(complete({"keymap", "im"}), "import ");
    EXPECT_EQ(complete({"calls", "--w"}), "--watch ");
    EXPECT_EQ(complete({"calls", "--json", "--i"}), "--interval ");
    EXPECT_EQ(complete({"reload", "--to"}), "--token-file ");
    EXPECT_EQ(complete({"links", "--admin", "http"}), "http://127.0.0.1:9100 ");
    // A file option completes files.
    EXPECT_EQ(complete({"reload", "--token-file", IWF_SOURCE_DIR "/tools/completion/iwfctl.b"}),
              std::string(IWF_SOURCE_DIR) + "/tools/completion/iwfctl.bash ");
    // Every top-level command of `iwfctl --help` is offered.
    const std::string all = complete({""});
    for (const char* cmd :
         {"decode", "keymap", "status", "links", "peers", "calls", "call", "refusals", "reload"}) {
        EXPECT_NE(all.find(std::string(cmd) + " "), std::string::npos) << cmd << ": " << all;
    }
}

}  // namespace
}  // namespace iwf::test
