#include "platform/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

namespace locara {
namespace {

ErrorCode code_for_errno(int error_number) {
  return error_number == ENOENT || error_number == ENOTDIR ? ErrorCode::kNotFound
                                                           : ErrorCode::kIoError;
}

// Closes the descriptor on every path out of open(); the mapping outlives it.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() { ::close(fd_); }

 private:
  int fd_;
};

// The size of a huge (PMD) page-table entry: 2 MiB on x86-64 and 4 KiB-page arm64.
size_t huge_page_size() {
  static const size_t size = [] {
    std::ifstream sysfs("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
    size_t value = 0;
    return (sysfs >> value) && value > 0 && (value & (value - 1)) == 0 ? value : size_t{2} << 20;
  }();
  return size;
}

// Maps the whole file read-only at an address that is a multiple of `alignment`: a
// reservation one alignment larger, the file mapped over it at the aligned point, the
// rest given back. Returns MAP_FAILED (errno set) on failure.
void* map_aligned(int fd, size_t size, size_t alignment) {
  const size_t span = size + alignment;
  void* reservation =
      ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reservation == MAP_FAILED) return MAP_FAILED;
  const auto start = reinterpret_cast<uintptr_t>(reservation);
  const uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t{alignment} - 1);
  // MAP_FIXED replaces part of our own reservation, nothing else.
  void* address =
      ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (address == MAP_FAILED) {
    const int error_number = errno;
    ::munmap(reservation, span);
    errno = error_number;
    return MAP_FAILED;
  }
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t mapped_end = aligned + ((size + page - 1) & ~(page - 1));
  if (aligned > start) ::munmap(reservation, aligned - start);
  if (start + span > mapped_end) {
    ::munmap(reinterpret_cast<void*>(mapped_end), start + span - mapped_end);
  }
  return address;
}

}  // namespace

Expected<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error_number = errno;
    return make_error(code_for_errno(error_number), "{}: cannot open: {}", path,
                      std::strerror(error_number));
  }
  FdCloser closer(fd);

  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error_number = errno;
    return make_error(ErrorCode::kIoError, "{}: cannot stat: {}", path,
                      std::strerror(error_number));
  }
  if (!S_ISREG(info.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a regular file", path);
  }

  MappedFile file;
  file.path_ = path;
  if (info.st_size == 0) return file;  // mmap of length 0 fails with EINVAL; nothing to map.

  // MAP_SHARED over an O_RDONLY descriptor: the pages are the page cache's own, so they
  // stay clean and evictable, are shared by every process mapping the model, and can
  // never turn into private anonymous copies (the kernel refuses PROT_WRITE on this fd).
  //
  // Large files are mapped for huge (PMD) page-table entries. Decode streams every weight
  // once per token, and the page size decides how fast: on an EPYC VM (Linux 6.18, ext4) a
  // 1.2 GB model cached in 4 KiB folios, hence mapped with 4 KiB entries, streamed at
  // 20-25 GB/s per core; the same file in 2 MiB folios, PMD-mapped, at 28-32, as fast
  // as anonymous memory in transparent huge pages (anonymous memory in 4 KiB pages is as
  // slow as the file). The kernel maps page-cache pages with PMD entries when (1) the
  // virtual address is aligned with the file offset to the huge-page size, which the
  // aligned reservation guarantees, and (2) the page cache holds huge folios, which
  // MADV_HUGEPAGE asks readahead to allocate when faults bring the file in (our GGUF
  // writer leaves them too). Pages cached earlier in small folios (a download, a `cp`)
  // keep 4 KiB entries until they are evicted. Neither copies anything: the mapping
  // still shows the same clean page-cache pages.
  const size_t size = static_cast<size_t>(info.st_size);
  const size_t huge_page = huge_page_size();
  const bool large = size >= huge_page;
  void* address = large ? map_aligned(fd, size, huge_page)
                        : ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    const int error_number = errno;
    return make_error(ErrorCode::kIoError, "{}: cannot mmap {} bytes: {}", path, size,
                      std::strerror(error_number));
  }
#ifdef MADV_HUGEPAGE
  // Advice only: with transparent huge pages off (or a kernel without them) it fails and
  // the mapping works as before.
  if (large) ::madvise(address, size, MADV_HUGEPAGE);
#endif
  file.data_ = static_cast<const uint8_t*>(address);
  file.size_ = size;
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

uint64_t MappedFile::huge_mapped_bytes() const {
  if (data_ == nullptr) return 0;
  // smaps lists each mapping as "start-end perms ..." followed by "Key: value kB" lines;
  // sum FilePmdMapped over the mappings inside ours (madvise can split one into several).
  std::ifstream smaps("/proc/self/smaps");
  const auto begin = reinterpret_cast<uintptr_t>(data_);
  const uintptr_t end = begin + size_;
  std::string line;
  bool inside = false;
  uint64_t total_kb = 0;
  while (std::getline(smaps, line)) {
    const size_t dash = line.find('-');
    const size_t space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find(':') > space) {
      const uintptr_t start = std::stoull(line.substr(0, dash), nullptr, 16);
      inside = start >= begin && start < end;
      continue;
    }
    if (inside && line.rfind("FilePmdMapped:", 0) == 0) {
      total_kb += std::stoull(line.substr(14));
    }
  }
  return total_kb * 1024;
}

bool MappedFile::contains(const void* ptr, size_t n) const {
  if (data_ == nullptr || ptr == nullptr) return false;
  // Compare as integers: relational operators on unrelated pointers are unspecified.
  const auto begin = reinterpret_cast<uintptr_t>(data_);
  const auto address = reinterpret_cast<uintptr_t>(ptr);
  if (address < begin) return false;
  const uintptr_t offset = address - begin;
  return offset <= size_ && n <= size_ - offset;
}

}  // namespace locara
