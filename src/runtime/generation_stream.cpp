#include "runtime/generation_stream.h"

namespace locara {

bool GenerationStream::push(StreamItem item) {
  std::unique_lock lock(mutex_);
  writable_.wait(
      lock, [&] { return cancelled_ || interrupted_ || finished_ || items_.size() < capacity_; });
  if (cancelled_ || interrupted_ || finished_) return false;
  items_.push_back(std::move(item));
  ++pushed_;
  readable_.notify_one();
  return true;
}

void GenerationStream::finish(StreamItem last) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (!cancelled_) {
    items_.push_back(std::move(last));
    ++pushed_;
  }
  readable_.notify_all();
  writable_.notify_all();
}

std::optional<StreamItem> GenerationStream::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!readable_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
  StreamItem item = std::move(items_.front());
  items_.pop_front();
  writable_.notify_one();
  return item;
}

void GenerationStream::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  items_.clear();  // nobody will read them: their memory goes now
  writable_.notify_all();
  readable_.notify_all();
}

void GenerationStream::interrupt() {
  std::lock_guard lock(mutex_);
  interrupted_ = true;
  writable_.notify_all();
}

bool GenerationStream::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

bool GenerationStream::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

size_t GenerationStream::buffered() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

uint64_t GenerationStream::pushed() const {
  std::lock_guard lock(mutex_);
  return pushed_;
}

}  // namespace locara
