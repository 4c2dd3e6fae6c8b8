// A read-only memory mapping of a whole file: the only way weights reach memory.
// Pages stay clean and file-backed (evictable); nothing is copied or locked. Large files
// are mapped so the kernel can use huge (PMD) mappings for them (see mapped_file.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace locara {

// Owns one mapping; movable, not copyable. Thread-safe for concurrent reads.
class MappedFile {
 public:
  static Expected<MappedFile> open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }
  // True when [ptr, ptr + n) lies inside the mapping.
  bool contains(const void* ptr, size_t n) const;

  // Bytes of the mapping the kernel maps with huge (PMD) page-table entries now, from
  // /proc/self/smaps ("FilePmdMapped"); 0 when none are or the kernel does not say.
  // A diagnostic: streaming reads of PMD-mapped pages run at anonymous-memory speed,
  // through 4 KiB entries they can be much slower.
  uint64_t huge_mapped_bytes() const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace locara
