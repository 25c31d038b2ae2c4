// iwf-harness: the LMR/MC interop test harness (scenarios arrive with the engine issue).
#include <iostream>

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
    CLI::App app{"iwf-harness - LMR/MC interop test harness for OpenIWF"};
    bool version = false;
    app.add_flag("-V,--version", version, "print the version and exit");
    CLI11_PARSE(app, argc, argv);
    if (version) {
        std::cout << "iwf-harness " << IWF_VERSION << "\n";
        return 0;
    }
    std::cout << app.help();
    return 2;
}
