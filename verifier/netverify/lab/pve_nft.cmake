# The Proxmox VE firewall of the lab's node as nftables, read from the compiled files.
add_library(netpol_live_pve_nft STATIC ${CMAKE_CURRENT_SOURCE_DIR}/pve_nft.cpp)
target_include_directories(netpol_live_pve_nft PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(netpol_live_pve_nft PUBLIC netpol_target_proxmox)

if(NETPOL_TESTS)
  add_executable(netpol_live_pve_nft_tests ${CMAKE_SOURCE_DIR}/tests/tests_main.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/pve_nft_test.cpp)
  target_link_libraries(netpol_live_pve_nft_tests PRIVATE netpol_live_pve_nft netpol_driver Catch2::Catch2)
  target_compile_definitions(netpol_live_pve_nft_tests PRIVATE NETPOL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  catch_discover_tests(netpol_live_pve_nft_tests)

  # Real: the node and three guests in namespaces, the render loaded with nft, real TCP.
  add_test(NAME netpol_live_pve_nft_lab
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/pve_nft_lab_test.sh $<TARGET_FILE:netpolc>
            $<TARGET_FILE:netpol_live_pve_nft_tests> ${CMAKE_SOURCE_DIR}/policy/lab.npol)
  set_tests_properties(netpol_live_pve_nft_lab PROPERTIES TIMEOUT 90)
endif()
