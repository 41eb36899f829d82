# Named namespaces and the links, addresses and routes in them (libnl), plus the fake for unit tests.
add_library(netpol_live_netns STATIC netns.cpp netlink.cpp cleanup.cpp fake_netlink.cpp)
target_include_directories(netpol_live_netns PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
find_package(Threads REQUIRED)
target_link_libraries(netpol_live_netns PUBLIC PkgConfig::NL Threads::Threads)

if(NETPOL_TESTS)
  add_executable(netpol_live_netns_tests
    ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp netns_test.cpp netlink_test.cpp cleanup_test.cpp)
  target_link_libraries(netpol_live_netns_tests PRIVATE netpol_live_netns Catch2::Catch2)
  # Hidden tests tagged [fresh-netns] make links in the namespace they start in: they only run
  # through the wrapper, inside a private namespace, never in the root one.
  catch_discover_tests(netpol_live_netns_tests)
  add_test(NAME netpol_live_netns_fresh_netns
           COMMAND ${NETVERIFY_IN_NETNS} $<TARGET_FILE:netpol_live_netns_tests> "[fresh-netns]")
endif()
