# The prober, probe tokens, the lab's listeners and the tap capture (probe.h, token.h, listener.h,
# capture.h): sockets and threads only, no other library.
find_package(Threads REQUIRED)
add_library(netpol_live_probe STATIC probe.cpp token.cpp listener.cpp capture.cpp)
target_include_directories(netpol_live_probe PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(netpol_live_probe PUBLIC Threads::Threads)

if(NETPOL_TESTS)
  add_executable(netpol_live_probe_tests ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp
    token_test.cpp probe_test.cpp listener_test.cpp capture_test.cpp)
  target_link_libraries(netpol_live_probe_tests PRIVATE netpol_live_probe Catch2::Catch2)
  # Every test case, and the listing of them, runs in its own fresh network namespace (root):
  # the firewall rules and addresses a test adds vanish with it.
  set_target_properties(netpol_live_probe_tests PROPERTIES CROSSCOMPILING_EMULATOR ${NETVERIFY_IN_NETNS})
  catch_discover_tests(netpol_live_probe_tests PROPERTIES TIMEOUT 60)
endif()
