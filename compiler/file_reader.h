#pragma once
// Files behind a small interface, so tests can parse from memory.
#include <map>
#include <optional>
#include <string>

namespace netpol {

class FileReader {
 public:
  virtual ~FileReader() = default;
  // The file's bytes, or nullopt with `error` set (e.g. "No such file or directory").
  virtual std::optional<std::string> read(const std::string& path, std::string& error) = 0;
};

class DiskFileReader : public FileReader {
 public:
  // Files larger than this are refused rather than read (a policy is small text).
  static constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
  std::optional<std::string> read(const std::string& path, std::string& error) override;
};

class MemoryFileReader : public FileReader {
 public:
  explicit MemoryFileReader(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  std::optional<std::string> read(const std::string& path, std::string& error) override;

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace netpol
