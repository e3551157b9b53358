# The contract's error body; used by the server, the admin API and the data plane.
mg_add_library(mg_server_error_body
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/error_body.cc
  DEPS mg_core Boost::json)
