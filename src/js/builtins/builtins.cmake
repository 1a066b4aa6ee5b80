# The Web API bundle (src/js/builtins), included by src/js/CMakeLists.txt. Defines:
#   DURO_BUILTINS_JS      path of the bundled ES module: ${CMAKE_CURRENT_BINARY_DIR}/duro_builtins.js
#   duro_builtins_bundle  custom target that (re)builds it with bundle.sh (npm ci + esbuild)
#   js_builtins_test      ctest test (when DURO_BUILD_TESTS): node --test on src/js/builtins/test/*.test.mjs
#                         against that bundle
# Building needs node and npm (the npm registry on the first build, for package-lock.json).
set(DURO_BUILTINS_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(DURO_BUILTINS_JS "${CMAKE_CURRENT_BINARY_DIR}/duro_builtins.js")

find_program(DURO_NODE_EXECUTABLE node REQUIRED)

file(GLOB duroBuiltinsSources CONFIGURE_DEPENDS
  "${DURO_BUILTINS_DIR}/*.js"
  "${DURO_BUILTINS_DIR}/*.mjs"
  "${DURO_BUILTINS_DIR}/lib/*.js")

add_custom_command(
  OUTPUT "${DURO_BUILTINS_JS}"
  COMMAND "${DURO_BUILTINS_DIR}/bundle.sh" "${DURO_BUILTINS_JS}"
  DEPENDS ${duroBuiltinsSources}
          "${DURO_BUILTINS_DIR}/bundle.sh"
          "${DURO_BUILTINS_DIR}/package.json"
          "${DURO_BUILTINS_DIR}/package-lock.json"
  WORKING_DIRECTORY "${DURO_BUILTINS_DIR}"
  COMMENT "Bundling the Web APIs (src/js/builtins) into ${DURO_BUILTINS_JS}"
  VERBATIM)
add_custom_target(duro_builtins_bundle DEPENDS "${DURO_BUILTINS_JS}")

if(DURO_BUILD_TESTS)
  # The files are listed (newer Node versions read --test arguments as glob patterns, not folders).
  file(GLOB duroBuiltinsTests CONFIGURE_DEPENDS "${DURO_BUILTINS_DIR}/test/*.test.mjs")
  add_test(NAME js_builtins_test
    COMMAND "${DURO_NODE_EXECUTABLE}" --test ${duroBuiltinsTests}
    WORKING_DIRECTORY "${DURO_BUILTINS_DIR}")
  set_tests_properties(js_builtins_test PROPERTIES
    TIMEOUT 300
    ENVIRONMENT "DURO_BUILTINS_JS=${DURO_BUILTINS_JS}")
endif()
