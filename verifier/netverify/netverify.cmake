# The plan, the verdicts, the node and lab runs, and the netverify command.
add_library(netpol_live STATIC plan.cpp verdict.cpp probe_run.cpp probe_namespaces.cpp interrupt.cpp checked_policy.cpp
  report_writer.cpp node_run.cpp)
target_include_directories(netpol_live PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(netpol_live PUBLIC netpol_driver netpol_live_probe netpol_live_netns netpol_live_report)

add_executable(netverify netverify.cpp)
target_link_libraries(netverify PRIVATE netpol_live netpol_live_lab CLI11::CLI11)
set_target_properties(netverify PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

if(NETPOL_TESTS)
  add_executable(netpol_live_tests ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp plan_test.cpp verdict_test.cpp)
  target_link_libraries(netpol_live_tests PRIVATE netpol_live Catch2::Catch2)
  target_compile_definitions(netpol_live_tests PRIVATE NETPOL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  catch_discover_tests(netpol_live_tests)
endif()

if(NETPOL_TESTS)
  add_test(NAME netverify_command_line
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/netverify_cli_test.sh $<TARGET_FILE:netverify> ${CMAKE_SOURCE_DIR})
  set_tests_properties(netverify_command_line PROPERTIES TIMEOUT 60 FAIL_REGULAR_EXPRESSION "[1-9][0-9]* failed")
endif()
