# The Bedrock provider client: signed requests, STS session cache, Converse/ConverseStream,
# catalog and health probes over the upstream HttpClient.
mg_add_library(mg_providers_bedrock
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/signed_request.cc
    ${CMAKE_CURRENT_LIST_DIR}/assume_role_cache.cc
    ${CMAKE_CURRENT_LIST_DIR}/client.cc
  DEPS mg_providers_bedrock_codec mg_providers_aws mg_net mg_core)
