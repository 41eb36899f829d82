#include "report_writer.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace netpol::live {

namespace {

bool write_atomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      std::remove(temp.c_str());
      return false;
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return false;
  }
  return true;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int write_reports(const std::vector<Cell>& cells, RunFacts facts, const RunOptions& options) {
  if (facts.started_utc.empty()) facts.started_utc = utc_now();
  const bool colour = options.colour == "always" || (options.colour == "auto" && ::isatty(STDOUT_FILENO));
  std::cout << render_text(cells, facts, colour) << std::flush;
  int rc = exit_code_for(cells);
  auto write = [&](const std::string& path, const std::string& text, const char* what) {
    if (path.empty()) return;
    if (!write_atomically(path, text)) {
      std::cerr << "netverify: cannot write the " << what << " report to " << path << '\n';
      rc = 2;
    }
  };
  write(options.json, render_json(cells, facts), "JSON");
  write(options.junit, render_junit(cells, facts), "JUnit");
  write(options.metrics, render_metrics(cells, facts), "metrics");
  return rc;
}

}  // namespace netpol::live
