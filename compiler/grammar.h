#pragma once
// The whole grammar of the netpol policy language, in one place (PEGTL).
// Every must<> names a rule with its own message (see errors<> below), so a
// syntax error says what was expected in words a user knows.
// Semantic checks (name rules, port ranges, address syntax) live in resolve.cpp;
// the grammar is deliberately a little permissive there so those errors can be precise.
#include <tao/pegtl.hpp>

namespace netpol::grammar {

using namespace tao::pegtl;

// ---- lexical -------------------------------------------------------------
struct comment : seq<one<'#'>, until<eolf>> {};
struct S : star<sor<ascii::space, comment>> {};  // optional blanks and comments
struct name_char : sor<ascii::alnum, one<'_'>, seq<one<'-'>, not_at<one<'>'>>>> {};
template <typename Word>
struct kw : seq<Word, not_at<name_char>> {};
struct number : plus<ascii::digit> {};

// A list "R, R, R": after a comma another R must follow.
template <typename R, typename Expect>
struct comma_list : seq<R, star<S, one<','>, S, must<Expect>>> {};

struct k_include : kw<TAO_PEGTL_STRING("include")> {};
struct k_address : kw<TAO_PEGTL_STRING("address")> {};
struct k_zone : kw<TAO_PEGTL_STRING("zone")> {};
struct k_host : kw<TAO_PEGTL_STRING("host")> {};
struct k_node : kw<TAO_PEGTL_STRING("node")> {};
struct k_service : kw<TAO_PEGTL_STRING("service")> {};
struct k_allow : kw<TAO_PEGTL_STRING("allow")> {};
struct k_deny : kw<TAO_PEGTL_STRING("deny")> {};
struct k_never : kw<TAO_PEGTL_STRING("never")> {};
struct k_vpn : kw<TAO_PEGTL_STRING("vpn")> {};
struct k_publish : kw<TAO_PEGTL_STRING("publish")> {};
struct k_in : kw<TAO_PEGTL_STRING("in")> {};
struct k_on : kw<TAO_PEGTL_STRING("on")> {};
struct k_bridge : kw<TAO_PEGTL_STRING("bridge")> {};
struct k_vmid : kw<TAO_PEGTL_STRING("vmid")> {};
struct k_docker : kw<TAO_PEGTL_STRING("docker")> {};
struct k_listen : kw<TAO_PEGTL_STRING("listen")> {};
struct k_from : kw<TAO_PEGTL_STRING("from")> {};
struct k_pool : kw<TAO_PEGTL_STRING("pool")> {};
struct k_route : kw<TAO_PEGTL_STRING("route")> {};
struct k_tls : kw<TAO_PEGTL_STRING("tls")> {};
struct k_websocket : kw<TAO_PEGTL_STRING("websocket")> {};
struct statement_keyword
    : sor<k_include, k_address, k_zone, k_host, k_node, k_service, k_allow, k_deny, k_never, k_vpn, k_publish> {};

// A statement keyword in the first column always starts a statement, never a name:
// so "allow a -> b : x," followed by "zone ..." on the next line is an error at the
// comma, not a service called "zone". (Continuation lines are indented.)
struct not_statement_start : not_at<bol, statement_keyword> {};
struct identifier : seq<not_statement_start, sor<ascii::alpha, one<'_'>>, star<name_char>> {};

// ---- include "file" ----------------------------------------------------------
struct include_path : star<not_one<'"', '\n', '\r'>> {};
struct closing_quote : one<'"'> {};
struct quoted_include : seq<one<'"'>, include_path, must<closing_quote>> {};
struct include_stmt : seq<k_include, S, must<quoted_include>> {};

// ---- address NAME CIDR, CIDR ---------------------------------------------------
struct address_target : identifier {};
struct address_text : seq<not_statement_start, plus<sor<ascii::alnum, one<'.', ':', '/', '_', '-'>>>> {};
struct address_next : address_text {};
struct address_list : comma_list<address_text, address_next> {};
struct address_stmt : seq<k_address, S, must<address_target>, S, must<address_list>> {};

// ---- ports and services ----------------------------------------------------------
struct k_tcp : kw<TAO_PEGTL_STRING("tcp")> {};
struct k_udp : kw<TAO_PEGTL_STRING("udp")> {};
struct k_icmp : kw<TAO_PEGTL_STRING("icmp")> {};
struct port_first : number {};
struct port_last : number {};
struct port_range : seq<port_first, opt<S, one<'-'>, S, must<port_last>>> {};
// No must<> after a comma here: "tcp/80, udp/53" continues with another spec.
struct port_range_next : port_range {};
struct port_list : seq<port_range, star<S, one<','>, S, port_range_next>> {};
struct l4_proto : sor<k_tcp, k_udp> {};
struct l4_spec : seq<l4_proto, S, one<'/'>, S, must<port_list>> {};
struct icmp_type : identifier {};
struct icmp_spec : seq<k_icmp, opt<S, one<'/'>, S, must<icmp_type>>> {};
struct port_spec : sor<l4_spec, icmp_spec> {};
struct service_name : identifier {};
struct service_ref : sor<port_spec, service_name> {};
struct service_ref_next : service_ref {};
struct service_list : comma_list<service_ref, service_ref_next> {};
struct port_spec_next : port_spec {};
struct spec_list : comma_list<port_spec, port_spec_next> {};

struct service_decl_name : identifier {};
struct service_stmt : seq<k_service, S, must<service_decl_name>, S, must<spec_list>> {};

// ---- zone NAME [in PARENT] [{ bridge IF }] --------------------------------------
struct zone_name : identifier {};
struct parent_name : identifier {};
struct bridge_name : identifier {};
struct zone_parent : seq<k_in, S, must<parent_name>> {};
struct zone_prop : seq<k_bridge, S, must<bridge_name>> {};
struct zone_close : one<'}'> {};
struct zone_body : seq<one<'{'>, S, star<zone_prop, S>, must<zone_close>> {};
struct zone_stmt : seq<k_zone, S, must<zone_name>, S, opt<zone_parent, S>, opt<zone_body>> {};

// ---- host NAME in ZONE [{ vmid N  docker ["compose.yml", ...] }]   node NAME in ZONE ---
struct host_name : identifier {};
struct host_zone : identifier {};
struct host_in : seq<k_in, S, must<host_zone>> {};
struct vmid_value : number {};
struct compose_path : plus<not_one<'"', '\n', '\r'>> {};
struct compose_quote : one<'"'> {};
struct compose_file : seq<one<'"'>, must<compose_path>, must<compose_quote>> {};
struct compose_next : compose_file {};
struct docker_prop : seq<k_docker, opt<S, comma_list<compose_file, compose_next>>> {};
struct host_prop : sor<seq<k_vmid, S, must<vmid_value>>, docker_prop> {};
struct host_close : one<'}'> {};
struct host_body : seq<one<'{'>, S, star<host_prop, S>, must<host_close>> {};
struct host_stmt : seq<k_host, S, must<host_name>, S, must<host_in>, S, opt<host_body>> {};
struct node_stmt : seq<k_node, S, must<host_name>, S, must<host_in>> {};

// ---- allow|deny|never SRC -> DST : SERVICES -----------------------------------------
struct source_name : identifier {};
struct dest_name : identifier {};
struct source_next : source_name {};
struct dest_next : dest_name {};
struct source_list : comma_list<source_name, source_next> {};
struct dest_list : comma_list<dest_name, dest_next> {};
struct arrow : string<'-', '>'> {};
struct colon : one<':'> {};
struct rule_kind : sor<k_allow, k_deny, k_never> {};
struct rule_stmt
    : seq<rule_kind, S, must<source_list>, S, must<arrow>, S, must<dest_list>, S, must<colon>, S, must<service_list>> {};

// ---- vpn NAME on HOST { listen SERVICE from ZONES  pool ZONE  route DESTS } ---------
struct vpn_name : identifier {};
struct vpn_server : identifier {};
struct vpn_listen_service : service_ref {};
struct vpn_listen_from : source_list {};
struct vpn_from : k_from {};
struct vpn_listen
    : seq<k_listen, S, must<vpn_listen_service>, S, must<vpn_from>, S, must<vpn_listen_from>> {};
struct vpn_pool_zone : identifier {};
struct vpn_pool : seq<k_pool, S, must<vpn_pool_zone>> {};
struct vpn_route : seq<k_route, S, must<dest_list>> {};
struct vpn_prop : sor<vpn_listen, vpn_pool, vpn_route> {};
struct vpn_open : one<'{'> {};
struct vpn_close : one<'}'> {};
struct vpn_stmt : seq<k_vpn, S, must<vpn_name>, S, must<k_on>, S, must<vpn_server>, S, must<vpn_open>, S,
                      star<vpn_prop, S>, must<vpn_close>> {};

// ---- publish DOMAIN on PROXY -> BACKEND:SERVICE [{ tls websocket from ZONES }] -------
struct domain : seq<not_statement_start, plus<sor<ascii::alnum, one<'.', '-', '_', '*'>>>> {};
struct proxy_name : identifier {};
struct backend_name : identifier {};
struct backend_service : identifier {};
struct publish_from : source_list {};
struct publish_tls : k_tls {};
struct publish_websocket : k_websocket {};
struct publish_prop : sor<publish_tls, publish_websocket, seq<k_from, S, must<publish_from>>> {};
struct publish_close : one<'}'> {};
struct publish_body : seq<one<'{'>, S, star<publish_prop, S>, must<publish_close>> {};
struct publish_stmt : seq<k_publish, S, must<domain>, S, must<k_on>, S, must<proxy_name>, S, must<arrow>, S,
                          must<backend_name>, S, must<colon>, S, must<backend_service>, S, opt<publish_body>> {};

// ---- a file: statements, one at a time (the parser recovers between them) ------------
struct statement : sor<include_stmt, address_stmt, zone_stmt, host_stmt, node_stmt, service_stmt, rule_stmt,
                       vpn_stmt, publish_stmt> {};
struct next_statement : seq<S, sor<eof, must<statement>>> {};
struct end_of_file : eof {};
struct file : seq<star<S, statement>, S, must<end_of_file>> {};  // the whole language, for analyze<>()

// The message for every rule that appears inside must<>.
template <typename Rule>
inline constexpr const char* message = nullptr;
// clang-format off
template <> inline constexpr const char* message<closing_quote> = "expected '\"' to close the file name";
template <> inline constexpr const char* message<quoted_include> = "expected a file name in double quotes after 'include'";
template <> inline constexpr const char* message<address_target> = "expected the name of a zone or host after 'address'";
template <> inline constexpr const char* message<address_list> = "expected an address or network (e.g. 198.18.1.0/24)";
template <> inline constexpr const char* message<address_next> = "expected an address or network after ','";
template <> inline constexpr const char* message<port_last> = "expected the last port of the range after '-'";
template <> inline constexpr const char* message<port_list> = "expected a port number or range after '/' (e.g. tcp/443 or udp/5000-5010)";
template <> inline constexpr const char* message<icmp_type> = "expected an ICMP type name after 'icmp/' (e.g. icmp/echo-request)";
template <> inline constexpr const char* message<service_ref_next> = "expected a service name or a port spec (tcp/N, udp/N, icmp) after ','";
template <> inline constexpr const char* message<service_list> = "expected a service name, 'any', or a port spec (tcp/N, udp/N, icmp)";
template <> inline constexpr const char* message<port_spec_next> = "expected a port spec (tcp/N, udp/N, icmp) after ','";
template <> inline constexpr const char* message<spec_list> = "expected the service's ports: tcp/N, udp/N or icmp (e.g. tcp/8096)";
template <> inline constexpr const char* message<service_decl_name> = "expected the service's name after 'service'";
template <> inline constexpr const char* message<zone_name> = "expected the zone's name after 'zone'";
template <> inline constexpr const char* message<parent_name> = "expected the parent zone's name after 'in'";
template <> inline constexpr const char* message<bridge_name> = "expected a bridge interface name after 'bridge' (e.g. vmbr0)";
template <> inline constexpr const char* message<zone_close> = "expected 'bridge IF' or '}' in the zone block";
template <> inline constexpr const char* message<host_name> = "expected the host's name";
template <> inline constexpr const char* message<host_zone> = "expected the zone's name after 'in'";
template <> inline constexpr const char* message<host_in> = "expected 'in ZONE' after the host's name";
template <> inline constexpr const char* message<vmid_value> = "expected a number after 'vmid' (the Proxmox VM id)";
template <> inline constexpr const char* message<host_close> = "expected 'vmid N', 'docker' or '}' in the host block";
template <> inline constexpr const char* message<compose_path> = "expected the compose file's name between the quotes";
template <> inline constexpr const char* message<compose_quote> = "expected '\"' to close the compose file's name";
template <> inline constexpr const char* message<compose_next> = "expected another compose file in double quotes after ','";
template <> inline constexpr const char* message<source_next> = "expected a zone, host or 'any' after ','";
template <> inline constexpr const char* message<dest_next> = "expected a zone, host or 'any' after ','";
template <> inline constexpr const char* message<source_list> = "expected the source: a zone, host or 'any'";
template <> inline constexpr const char* message<dest_list> = "expected the destination: a zone, host or 'any'";
template <> inline constexpr const char* message<arrow> = "expected '->' between the source and the destination";
template <> inline constexpr const char* message<colon> = "expected ':' and the services";
template <> inline constexpr const char* message<vpn_name> = "expected the VPN's name after 'vpn'";
template <> inline constexpr const char* message<k_on> = "expected 'on HOST'";
template <> inline constexpr const char* message<vpn_server> = "expected the VPN server's host name after 'on'";
template <> inline constexpr const char* message<vpn_open> = "expected '{' to open the VPN block";
template <> inline constexpr const char* message<vpn_close> = "expected 'listen', 'pool', 'route' or '}' in the VPN block";
template <> inline constexpr const char* message<vpn_listen_service> = "expected the service the VPN listens on after 'listen' (e.g. udp/1194)";
template <> inline constexpr const char* message<vpn_from> = "expected 'from ZONES' after the listen service";
template <> inline constexpr const char* message<vpn_listen_from> = "expected the zones that may connect after 'from'";
template <> inline constexpr const char* message<vpn_pool_zone> = "expected the client zone after 'pool'";
template <> inline constexpr const char* message<domain> = "expected the published DNS name after 'publish'";
template <> inline constexpr const char* message<proxy_name> = "expected the reverse proxy's host name after 'on'";
template <> inline constexpr const char* message<backend_name> = "expected the backend host after '->'";
template <> inline constexpr const char* message<backend_service> = "expected the backend's service after ':'";
template <> inline constexpr const char* message<publish_from> = "expected the zones allowed to use the name after 'from'";
template <> inline constexpr const char* message<publish_close> = "expected 'tls', 'websocket', 'from ZONES' or '}' in the publish block";
template <> inline constexpr const char* message<statement> = "expected a statement: include, address, zone, host, node, service, allow, deny, never, vpn or publish";
template <> inline constexpr const char* message<end_of_file> = "expected a statement or the end of the file";
// clang-format on

struct errors {
  template <typename Rule>
  static constexpr const char* message = grammar::message<Rule>;
};

}  // namespace netpol::grammar
