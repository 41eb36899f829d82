# netverify lab: the node built in namespaces from the policy (lab.h).
add_library(netpol_live_lab STATIC lab.cpp lab_topology.cpp lab_paths.cpp lab_docker.cpp)
target_include_directories(netpol_live_lab PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(netpol_live_lab PUBLIC netpol_live netpol_live_pve_nft netpol_live_lab_services netpol_live_docker_layout netpol_compose)

if(NETPOL_TESTS)
  # netverify lab on the homelab's flows (policy/lab.npol): proven clean, each deliberate mistake
  # caught and named, the same verdicts when firewalls reject instead of drop, and nothing left after
  # an interruption. One lab at a time: they share the lab's namespace names.
  foreach(case clean ufw-5432 pve-rule vpn-route reject-tcp reject-icmp sigint node)
    add_test(NAME netverify_lab_${case}
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/netverify_lab_test.sh $<TARGET_FILE:netverify> ${CMAKE_SOURCE_DIR} ${case})
    set_tests_properties(netverify_lab_${case} PROPERTIES RUN_SERIAL TRUE TIMEOUT 240
      FAIL_REGULAR_EXPRESSION "[1-9][0-9]* failed")
  endforeach()
endif()
