# netpol_live_report: cells and their verdicts (cell.h), and the reports of a run (report.h): the
# matrix a person reads, JSON, JUnit for CI dashboards, Prometheus metrics for the textfile collector.
add_library(netpol_live_report STATIC cell.cpp report.cpp)
target_include_directories(netpol_live_report PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(netpol_live_report PUBLIC netpol_live_probe nlohmann_json::nlohmann_json fmt::fmt)

if(NETPOL_TESTS)
  add_executable(netpol_live_report_tests ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp
                 cell_test.cpp report_test.cpp)
  target_link_libraries(netpol_live_report_tests PRIVATE netpol_live_report Catch2::Catch2)
  target_compile_definitions(netpol_live_report_tests PRIVATE NETPOL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  catch_discover_tests(netpol_live_report_tests)
endif()
