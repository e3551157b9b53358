# Bedrock provider client: request building/signing and the STS cache (no network), and the
# client against the local fake AWS (node tests/fakes/fake-aws.mjs), labelled integration.
mg_add_unit_test(mg_bedrock_client_unit_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/signed_request_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/assume_role_cache_test.cc
  DEPS mg_providers_bedrock)

find_program(MG_NODE_EXECUTABLE node)
if(MG_NODE_EXECUTABLE)
  mg_add_unit_test(mg_bedrock_client_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/client_test.cc
    DEPS mg_providers_bedrock Boost::json
    LABEL integration)
  if(TARGET mg_bedrock_client_test)
    target_compile_definitions(mg_bedrock_client_test PRIVATE
      MG_NODE_EXECUTABLE="${MG_NODE_EXECUTABLE}"
      MG_REPO_DIR="${PROJECT_SOURCE_DIR}")
  endif()
else()
  message(STATUS "node not found: mg_bedrock_client_test (fake AWS) is not built")
endif()
