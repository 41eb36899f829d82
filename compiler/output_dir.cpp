#include "output_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace netpol {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

bool write_file(const fs::path& path, const std::string& content, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + path.string() + ": " + errno_text();
    return false;
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "cannot write " + path.string() + ": " + errno_text();
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = "cannot write " + path.string() + ": " + errno_text();
    return false;
  }
  return true;
}

void sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// An existing directory may be replaced only if it is empty or a previous netpolc output.
std::string check_replaceable(const fs::path& dir) {
  std::error_code ec;
  auto status = fs::symlink_status(dir, ec);
  if (ec || status.type() == fs::file_type::not_found) return "";
  if (status.type() != fs::file_type::directory) return dir.string() + " exists and is not a directory";
  if (fs::is_empty(dir, ec) || fs::exists(dir / "manifest.json", ec)) return "";
  return "refusing to replace " + dir.string() +
         ": it is not empty and holds no manifest.json, so it is not a netpolc output directory";
}

}  // namespace

std::string write_output_dir(const std::string& dir_text, const OutputSet& files) {
  fs::path dir = fs::path(dir_text).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "out/" -> "out"
  fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) return "the folder " + parent.string() + " does not exist";
  if (auto why = check_replaceable(dir); !why.empty()) return why;

  std::string pattern = (parent / ("." + dir.filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) return "cannot create a temporary directory in " + parent.string() + ": " + errno_text();
  fs::path tmp(pattern);
  auto fail = [&](std::string why) {
    fs::remove_all(tmp, ec);
    return why;
  };
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(tmp.c_str(), 0777 & ~mask);

  std::string error;
  for (const auto& [relative, content] : files) {
    fs::path target = tmp / relative;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return fail("cannot create " + target.parent_path().string() + ": " + ec.message());
    if (!write_file(target, content, error)) return fail(error);
  }
  for (auto it = fs::recursive_directory_iterator(tmp, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    if (it->is_directory()) sync_dir(it->path());
  sync_dir(tmp);

  if (fs::exists(dir, ec)) {
    // Swap both names in one step: readers see the old set or the new set, never a mix.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0)
      return fail("cannot replace " + dir.string() + ": " + errno_text());
    fs::remove_all(tmp, ec);  // now the old contents
  } else if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    return fail("cannot create " + dir.string() + ": " + errno_text());
  }
  sync_dir(parent);
  return "";
}

}  // namespace netpol
