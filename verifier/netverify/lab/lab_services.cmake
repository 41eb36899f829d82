# netpol_live_lab_services: the real tools of the lab (ufw, iptables, openssl, nginx, openvpn), run
# inside the lab's network namespaces with private configuration; every process tracked and stopped.
add_library(netpol_live_lab_services STATIC processes.cpp service_files.cpp ufw_in_netns.cpp pki.cpp
            nginx_in_netns.cpp openvpn_in_netns.cpp)
# lab_services.h includes netns.h (for ToolError) from verifier/netverify.
target_include_directories(netpol_live_lab_services PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}
                           ${CMAKE_CURRENT_SOURCE_DIR}/..)

if(NETPOL_TESTS)
  add_executable(netpol_live_lab_services_tests ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp lab_services_test.cpp)
  target_link_libraries(netpol_live_lab_services_tests PRIVATE netpol_live_lab_services Catch2::Catch2)
  target_compile_definitions(netpol_live_lab_services_tests PRIVATE NETPOL_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                             NETPOLC_PATH="$<TARGET_FILE:netpolc>")
  add_dependencies(netpol_live_lab_services_tests netpolc)
  # Real tools in namespaces, as root: one at a time, bounded.
  catch_discover_tests(netpol_live_lab_services_tests PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)
endif()
