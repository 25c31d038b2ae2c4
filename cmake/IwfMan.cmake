# cmake -P: writes OUT/iwfd.1 and OUT/iwfctl.1 with help2man (called by IwfInstall.cmake).
# iwfctl's page gets every subcommand's own --help and the exit-code table, so `man iwfctl`
# is the whole reference; SOURCE_DATE_EPOCH (if set) keeps the date reproducible.
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
                        --name=OpenIWF\ interworking\ function\ daemon
                        --include=${SRC}/tools/man/iwfd.h2m --output=${OUT}/iwfd.1 ${IWFD}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man iwfd failed (${rc})")
endif()

set(inc "${SRC}/tools/man/iwfctl.h2m")
file(READ ${inc} text)
string(APPEND text "\n[COMMANDS]\n")
foreach(cmd "status" "links" "peers" "calls" "call show" "refusals" "reload" "keymap" "decode")
  separate_arguments(args UNIX_COMMAND "${cmd} --help")
  execute_process(COMMAND ${IWFCTL} ${args} OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "iwfctl ${cmd} --help failed (${rc})")
  endif()
  # help2man include text is roff: a leading dot or quote would start a request.
  string(REGEX REPLACE "\n([.'])" "\n\\\\&\\1" help "${help}")
  string(APPEND text ".SS \"iwfctl ${cmd}\"\n.nf\n${help}.fi\n")
endforeach()
file(WRITE ${OUT}/iwfctl.h2m "${text}")
execute_process(COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
                        --name=OpenIWF\ configuration\ and\ operations\ CLI
                        --include=${OUT}/iwfctl.h2m --output=${OUT}/iwfctl.1 ${IWFCTL}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man iwfctl failed (${rc})")
endif()

# Debian ships man pages gzipped (policy 12.1); -n keeps the output reproducible.
foreach(page iwfd.1 iwfctl.1)
  execute_process(COMMAND gzip -9nkf ${OUT}/${page} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${page} failed (${rc})")
  endif()
endforeach()
