#include "platform/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
  const size_t size = static_cast<size_t>(info.st_size);
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    const int error_number = errno;
    return make_error(ErrorCode::kIoError, "{}: cannot mmap {} bytes: {}", path, size,
                      std::strerror(error_number));
  }
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
