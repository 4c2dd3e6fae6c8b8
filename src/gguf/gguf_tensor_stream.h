// Streaming the data section of a GGUF file: tensor bytes go to disk as they are made,
// so a multi-gigabyte model is written without ever being held in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace locara {

// Not thread-safe. Made by GgufWriter::begin_streaming(). Writes to path + ".tmp";
// finish() makes it durable and renames it over path, and a stream destroyed before
// finish() (or after an error) removes the temporary file, so path never names half a file.
class GgufTensorStream {
 public:
  // One tensor of the data section, in file order. `stored` points at bytes the writer
  // already holds (written by the stream itself when their turn comes); nullptr for a
  // declared tensor whose bytes the caller streams.
  struct Slot {
    std::string name;
    uint64_t n_bytes = 0;
    const uint8_t* stored = nullptr;
  };

  // Creates path + ".tmp" and writes `header` (everything before the data section).
  static Expected<std::unique_ptr<GgufTensorStream>> open(const std::string& path,
                                                          std::span<const uint8_t> header,
                                                          std::vector<Slot> slots,
                                                          uint64_t alignment);
  ~GgufTensorStream();
  GgufTensorStream(const GgufTensorStream&) = delete;
  GgufTensorStream& operator=(const GgufTensorStream&) = delete;

  // Appends bytes of the current declared tensor, in as many pieces as the caller likes;
  // a piece may not run past the tensor's end. Once a tensor is complete the stream pads
  // it and moves on (writing any stored tensors that follow).
  Status write(std::span<const uint8_t> bytes);
  // Checks that every tensor is complete, fsyncs, closes and renames into place.
  Status finish();

  // The tensor the next write() belongs to, or nullptr when all are written.
  const Slot* current() const { return current_ < slots_.size() ? &slots_[current_] : nullptr; }
  size_t current_index() const { return current_; }
  // Bytes of the current tensor written so far.
  uint64_t current_written() const { return written_; }

 private:
  // Bytes are written to the file in aligned blocks of this size (see write_raw).
  static constexpr uint64_t kFlushBlock = uint64_t{8} << 20;

  GgufTensorStream(std::string path, int fd, std::vector<Slot> slots, uint64_t alignment);
  Status write_raw(const uint8_t* data, size_t size);
  Status flush();
  // Pads the finished tensor and skips past complete (stored or empty) ones.
  Status advance();
  void abandon();

  std::string path_;
  std::string temporary_;
  int fd_ = -1;
  std::vector<Slot> slots_;
  uint64_t alignment_;
  size_t current_ = 0;
  uint64_t written_ = 0;
  bool failed_ = false;
  std::vector<uint8_t> buffer_;  // not yet written: the file continues at flushed_
  uint64_t flushed_ = 0;
};

}  // namespace locara
