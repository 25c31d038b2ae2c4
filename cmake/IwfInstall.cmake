# `cmake --install` / `make install` and the Debian package (cpack -G DEB): every file in its
# FHS place (docs/install.md has the table). With CMAKE_INSTALL_PREFIX=/usr (the package, and
# scripts/package) configs go to /etc/openiwf and the unit to /usr/lib/systemd/system; with the
# default /usr/local prefix, /usr/local/etc/openiwf and /usr/local/lib/systemd/system.
include(GNUInstallDirs)

install(TARGETS iwfd iwfctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET iwf-harness)
  install(TARGETS iwf-harness RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Configs: the daemon's (a conffile in the package: an operator's edits survive upgrades) and
# the example keymap `iwfctl keymap import` reads.
install(FILES ${PROJECT_SOURCE_DIR}/configs/iwfd.yaml ${PROJECT_SOURCE_DIR}/configs/keymap.example.yaml
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/openiwf)

# The systemd unit, with the paths of this install (configs/iwfd.service names /usr/local/bin,
# where a hand install from a source tree puts the binaries).
file(READ ${PROJECT_SOURCE_DIR}/configs/iwfd.service _unit)
string(REPLACE "/usr/local/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" _unit "${_unit}")
string(REPLACE "/etc/openiwf/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/openiwf/" _unit "${_unit}")
file(WRITE ${PROJECT_BINARY_DIR}/install/iwfd.service "${_unit}")
install(FILES ${PROJECT_BINARY_DIR}/install/iwfd.service DESTINATION lib/systemd/system)

# High availability (docs/ha.md): keepalived's track script and notify hook, where the
# example configs/ha/keepalived.conf names them, and that example next to them.
install(PROGRAMS ${PROJECT_SOURCE_DIR}/configs/ha/iwf-healthz-check
                 ${PROJECT_SOURCE_DIR}/configs/ha/iwf-keepalived-notify
        DESTINATION ${CMAKE_INSTALL_DATADIR}/openiwf/ha)
install(FILES ${PROJECT_SOURCE_DIR}/configs/ha/keepalived.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/openiwf/ha)

# Bash completion, where bash-completion loads it on demand.
install(FILES ${PROJECT_SOURCE_DIR}/tools/completion/iwfctl.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME iwfctl)

# Wireshark Lua dissectors (tools/wireshark/), in Wireshark's global Lua plugin folder
# (`tshark -G folders`: "Global Lua Plugins", /usr/lib/<multiarch>/wireshark/plugins on
# Debian 12), so that Wireshark and tshark load them for every user.
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/wireshark)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/wireshark/
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/wireshark/plugins
          FILES_MATCHING PATTERN "*.lua")
  install(FILES ${PROJECT_SOURCE_DIR}/tools/wireshark/README.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/wireshark OPTIONAL)
endif()

# Man pages, generated with help2man from the programs' own --help (so they never disagree):
# built with the programs (target `man`, part of `all`), installed in man1.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(_man ${PROJECT_BINARY_DIR}/man)
  add_custom_command(
    OUTPUT ${_man}/iwfd.1 ${_man}/iwfctl.1 ${_man}/iwfd.1.gz ${_man}/iwfctl.1.gz
    COMMAND ${CMAKE_COMMAND} -DHELP2MAN=${HELP2MAN} -DIWFD=$<TARGET_FILE:iwfd>
            -DIWFCTL=$<TARGET_FILE:iwfctl> -DOUT=${_man} -DSRC=${PROJECT_SOURCE_DIR}
            -P ${PROJECT_SOURCE_DIR}/cmake/IwfMan.cmake
    DEPENDS iwfd iwfctl ${PROJECT_SOURCE_DIR}/cmake/IwfMan.cmake
    COMMENT "man pages (help2man): iwfd.1 iwfctl.1"
    VERBATIM)
  add_custom_target(man ALL DEPENDS ${_man}/iwfd.1 ${_man}/iwfctl.1)
  install(FILES ${_man}/iwfd.1.gz ${_man}/iwfctl.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man pages (scripts/setup installs it)")
endif()

# ---------------------------------------------------------------------------------------------
# Debian package: cpack -G DEB (scripts/package builds a Release one; CI packages its own build
# and installs it with apt-get, docs/install.md).
set(CPACK_PACKAGE_NAME openiwf)
set(CPACK_PACKAGE_VENDOR "OpenIWF")
set(CPACK_PACKAGE_CONTACT "OpenIWF maintainers <openiwf@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "interworking function between LMR (P25, DMR) and 3GPP Mission Critical systems")
set(CPACK_PACKAGE_DESCRIPTION
    "iwfd carries calls, floor control and short data between P25 (ISSI, network records), DMR \
Homebrew and 3GPP MCPTT/MCData (IWF-1, IWF-2); end-to-end encrypted LMR voice and data cross it \
opaquely. iwfctl configures and operates it; Wireshark dissectors, bash completion and man \
pages are included.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # openiwf_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Dependencies from the shared libraries iwfd, iwfctl and iwf-harness link (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/tools/debian/postinst ${PROJECT_SOURCE_DIR}/tools/debian/postrm
    ${PROJECT_SOURCE_DIR}/tools/debian/conffiles)
include(CPack)
