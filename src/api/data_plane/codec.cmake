# Pure request parsing and response / SSE rendering of the client API (client-api.md §3-§7).
mg_add_library(mg_api_data_plane_codec
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/openai_codec.cc
  DEPS mg_providers mg_server_error_body mg_core Boost::json)
