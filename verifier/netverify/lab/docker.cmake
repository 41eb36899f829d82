# Docker's iptables layout for a lab Docker host (no Docker engine runs here), and the test that
# reproduces the Docker/ufw hole with the real ufw and closes it with netpol's output.
add_library(netpol_live_docker_layout STATIC ${CMAKE_CURRENT_SOURCE_DIR}/docker_layout.cpp)
target_include_directories(netpol_live_docker_layout PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(netpol_live_docker_layout PUBLIC netpol_live_lab_services netpol_live_netns)

if(NETPOL_TESTS)
  add_executable(netpol_live_docker_tests ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/docker_layout_test.cpp ${CMAKE_CURRENT_SOURCE_DIR}/docker_lab_test.cpp)
  target_link_libraries(netpol_live_docker_tests PRIVATE netpol_live_docker_layout netpol_live_probe netpol_driver
                        Catch2::Catch2)
  target_compile_definitions(netpol_live_docker_tests PRIVATE NETPOL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  # [lab]: real ufw and iptables in namespaces, as root; one at a time, bounded.
  catch_discover_tests(netpol_live_docker_tests PROPERTIES RUN_SERIAL TRUE TIMEOUT 300)
endif()
