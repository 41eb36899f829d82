// A throwaway PKI for the lab's openvpn, made with plain openssl commands (EC P-256: fast, no
// easy-rsa). Certificates live two days: the lab is torn down long before.
#include <filesystem>

#include "lab_services.h"
#include "service_files.h"

namespace netpol::live::lab {

namespace {

constexpr std::chrono::seconds kOpensslTimeout{20};

struct Signer {
  Processes& processes;
  std::string dir, log;
  int serial = 1;

  void run(const std::vector<std::string>& argv, const std::string& what) {
    if (processes.run("", argv, log, kOpensslTimeout) != 0) fail_with_log("make_pki: " + what + " failed", log);
  }
  // A key and a certificate for `cn` signed by the CA, with the given extended key usage.
  std::pair<std::string, std::string> issue(const std::string& name, const std::string& eku) {
    const std::string key = dir + "/" + name + ".key", csr = dir + "/" + name + ".csr";
    const std::string crt = dir + "/" + name + ".crt", ext = dir + "/" + name + ".ext";
    run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=" + name, "-keyout", key, "-out", csr},
        "the request of " + name);
    write_text(ext,
               "basicConstraints = critical, CA:FALSE\n"
               "keyUsage = critical, digitalSignature, keyAgreement\n"
               "extendedKeyUsage = " + eku + "\n"
               "subjectKeyIdentifier = hash\n"
               "authorityKeyIdentifier = keyid\n",
               0644);
    run({"openssl", "x509", "-req", "-in", csr, "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key", "-set_serial",
         std::to_string(++serial), "-days", "2", "-extfile", ext, "-out", crt},
        "signing " + name);
    std::filesystem::remove(csr);
    std::filesystem::remove(ext);
    write_text(crt, read_text(crt), 0644);  // readable by openvpn after it drops to nobody
    return {crt, key};
  }
};

}  // namespace

Pki make_pki(Processes& processes, const std::string& dir_in, const std::vector<std::string>& client_names) {
  const std::string dir = std::filesystem::absolute(dir_in).lexically_normal().string();
  for (const auto& name : client_names) {
    bool safe = !name.empty() && name.size() <= 64 && name != "server" && name != "ca" &&
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
    if (!safe) throw ToolError("make_pki: bad client name '" + name + "' ([a-z0-9_-], not server/ca)");
  }
  make_dir(dir, 0755);
  Signer signer{processes, dir, dir + "/pki.log"};
  signer.run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-days", "2", "-subj", "/CN=netverify lab CA", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", dir + "/ca.key", "-out",
              dir + "/ca.crt"},
             "the CA");
  write_text(dir + "/ca.crt", read_text(dir + "/ca.crt"), 0644);
  Pki pki;
  pki.ca = dir + "/ca.crt";
  std::tie(pki.server_cert, pki.server_key) = signer.issue("server", "serverAuth");
  for (const auto& name : client_names) pki.clients[name] = signer.issue(name, "clientAuth");
  pki.tls_crypt = dir + "/tc.key";
  signer.run({"openvpn", "--genkey", "tls-crypt", pki.tls_crypt}, "openvpn --genkey tls-crypt");
  return pki;
}

}  // namespace netpol::live::lab
