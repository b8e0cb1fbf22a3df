# joinedup_embed(TARGET SYMBOL FILE): compiles FILE's text into TARGET as
#   std::string_view joinedup::embedded::SYMBOL();
# so the binary carries its reference data (code lists, rates, calendars) and needs no
# data directory at run time. The file stays in data/ with its provenance lines.
set(JOINEDUP_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake)

function(joinedup_embed target symbol file)
  get_filename_component(abs ${file} ABSOLUTE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded/${symbol}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${abs} -DOUT=${out} -DSYMBOL=${symbol} -P ${JOINEDUP_EMBED_SCRIPT}
    DEPENDS ${abs} ${JOINEDUP_EMBED_SCRIPT}
    COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE ${out})
endfunction()
