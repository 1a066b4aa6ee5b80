# Commit log (segment format, reader, SegmentWriter) and the per-shard group-commit thread.
# Included from src/storage/CMakeLists.txt until these sources join duro_storage.
find_package(ZLIB REQUIRED)

add_library(duro_storage_log STATIC ${CMAKE_CURRENT_LIST_DIR}/commit_log.cc
                                    ${CMAKE_CURRENT_LIST_DIR}/group_commit.cc)
target_link_libraries(duro_storage_log PUBLIC duro_base PRIVATE ZLIB::ZLIB duro_warnings)

duro_add_test(storage_log_test
              SOURCES ${CMAKE_CURRENT_LIST_DIR}/commit_log_test.cc
                      ${CMAKE_CURRENT_LIST_DIR}/group_commit_test.cc
              LIBS duro_storage_log)
