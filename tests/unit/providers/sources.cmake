mg_add_unit_test(mg_providers_types_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/types_test.cc ${CMAKE_CURRENT_SOURCE_DIR}/json_text_test.cc
  DEPS mg_providers)
