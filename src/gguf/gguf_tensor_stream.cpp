#include "gguf/gguf_tensor_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gguf/gguf_format.h"

namespace locara {

Expected<std::unique_ptr<GgufTensorStream>> GgufTensorStream::open(const std::string& path,
                                                                   std::span<const uint8_t> header,
                                                                   std::vector<Slot> slots,
                                                                   uint64_t alignment) {
  if (!gguf_format::is_power_of_two(alignment)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: alignment {} is not a nonzero power of two",
                      path, alignment);
  }
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kIoError, "{}: cannot create: {}", temporary,
                      std::strerror(errno));
  }
  std::unique_ptr<GgufTensorStream> stream(
      new GgufTensorStream(path, fd, std::move(slots), alignment));
  LOCARA_RETURN_IF_ERROR(stream->write_raw(header.data(), header.size()));
  LOCARA_RETURN_IF_ERROR(stream->advance());
  return stream;
}

GgufTensorStream::GgufTensorStream(std::string path, int fd, std::vector<Slot> slots,
                                   uint64_t alignment)
    : path_(std::move(path)),
      temporary_(path_ + ".tmp"),
      fd_(fd),
      slots_(std::move(slots)),
      alignment_(alignment) {}

GgufTensorStream::~GgufTensorStream() {
  abandon();
}

void GgufTensorStream::abandon() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_.c_str());
}

Status GgufTensorStream::write_raw(const uint8_t* data, size_t size) {
  // Bytes reach the file in blocks that start and end on kFlushBlock boundaries (the
  // first and last excepted), so the page cache takes them in naturally aligned huge
  // folios, which a reader's mapping can then map with huge (PMD) page-table entries
  // (see platform/mapped_file.cpp). Small or misaligned writes leave small folios, and
  // every later streaming read of the file pays for 4 KiB mappings.
  while (size > 0) {
    const uint64_t end = flushed_ + buffer_.size();
    const uint64_t boundary = (end / kFlushBlock + 1) * kFlushBlock;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(boundary - end, size));
    buffer_.insert(buffer_.end(), data, data + take);
    data += take;
    size -= take;
    if (flushed_ + buffer_.size() == boundary) LOCARA_RETURN_IF_ERROR(flush());
  }
  return ok_status();
}

Status GgufTensorStream::flush() {
  const uint8_t* data = buffer_.data();
  size_t size = buffer_.size();
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      return make_error(ErrorCode::kIoError, "{}: cannot write: {}", temporary_,
                        std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  flushed_ += buffer_.size();
  buffer_.clear();
  return ok_status();
}

Status GgufTensorStream::advance() {
  // Tensors are padded relative to the data section, which itself starts aligned; every
  // tensor before this one was padded, so padding the size alone keeps the offsets.
  static const uint8_t kZeros[256] = {};
  auto pad = [&](uint64_t n_bytes) -> Status {
    const uint64_t padding = *gguf_format::align_up(n_bytes, alignment_) - n_bytes;
    for (uint64_t left = padding; left > 0;) {
      const size_t piece = left < sizeof(kZeros) ? static_cast<size_t>(left) : sizeof(kZeros);
      LOCARA_RETURN_IF_ERROR(write_raw(kZeros, piece));
      left -= piece;
    }
    return ok_status();
  };
  if (current_ < slots_.size() && written_ == slots_[current_].n_bytes &&
      slots_[current_].stored == nullptr && written_ > 0) {
    LOCARA_RETURN_IF_ERROR(pad(written_));
    ++current_;
    written_ = 0;
  }
  // Stored tensors and empty ones need nothing from the caller.
  while (current_ < slots_.size() &&
         (slots_[current_].stored != nullptr || slots_[current_].n_bytes == 0)) {
    const Slot& slot = slots_[current_];
    if (slot.stored != nullptr) LOCARA_RETURN_IF_ERROR(write_raw(slot.stored, slot.n_bytes));
    LOCARA_RETURN_IF_ERROR(pad(slot.n_bytes));
    ++current_;
  }
  return ok_status();
}

Status GgufTensorStream::write(std::span<const uint8_t> bytes) {
  if (failed_ || fd_ < 0) {
    return make_error(ErrorCode::kInvalidArgument, "{}: stream already failed or finished",
                      temporary_);
  }
  if (bytes.empty()) return ok_status();
  if (current_ >= slots_.size()) {
    failed_ = true;
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: all {} tensors are written; {} bytes more were given", temporary_,
                      slots_.size(), bytes.size());
  }
  const Slot& slot = slots_[current_];
  if (bytes.size() > slot.n_bytes - written_) {
    failed_ = true;
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: {} bytes given for tensor '{}', which has {} of {} bytes left",
                      temporary_, bytes.size(), slot.name, slot.n_bytes - written_, slot.n_bytes);
  }
  LOCARA_RETURN_IF_ERROR(write_raw(bytes.data(), bytes.size()));
  written_ += bytes.size();
  if (written_ == slot.n_bytes) return advance();
  return ok_status();
}

Status GgufTensorStream::finish() {
  if (failed_ || fd_ < 0) {
    abandon();
    return make_error(ErrorCode::kInvalidArgument, "{}: stream already failed or finished",
                      temporary_);
  }
  if (current_ < slots_.size()) {
    const Slot& slot = slots_[current_];
    const Error error =
        make_error(ErrorCode::kInvalidArgument, "{}: tensor '{}' ({} of {}) has {} of its {} bytes",
                   temporary_, slot.name, current_ + 1, slots_.size(), written_, slot.n_bytes);
    abandon();
    return error;
  }
  if (Status flushed = flush(); !flushed) {
    abandon();
    return flushed;
  }
  // Durable before the rename, so the name never points at a half-written file.
  if (::fsync(fd_) != 0) {
    const Error error =
        make_error(ErrorCode::kIoError, "{}: cannot fsync: {}", temporary_, std::strerror(errno));
    abandon();
    return error;
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const Error error =
        make_error(ErrorCode::kIoError, "{}: cannot close: {}", temporary_, std::strerror(errno));
    ::unlink(temporary_.c_str());
    return error;
  }
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const Error error = make_error(ErrorCode::kIoError, "{}: cannot rename to {}: {}", temporary_,
                                   path_, std::strerror(errno));
    ::unlink(temporary_.c_str());
    return error;
  }
  return ok_status();
}

}  // namespace locara
