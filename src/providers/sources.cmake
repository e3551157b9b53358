# Provider-neutral chat types and the compact JSON text helpers the codecs share.
mg_add_library(mg_providers
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/types.cc ${CMAKE_CURRENT_SOURCE_DIR}/json_text.cc
  DEPS mg_core)
