#include "bench/api/run_queue.hpp"

#include <algorithm>

namespace derma::api {

bool RunQueue::push(std::int64_t run_id) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    waiting_.push_back(run_id);
  }
  wake_.notify_one();
  return true;
}

std::optional<std::int64_t> RunQueue::take() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return closed_ || (!waiting_.empty() && !running_); });
  if (closed_) return std::nullopt;
  running_ = waiting_.front();
  waiting_.pop_front();
  cancel_requested_ = false;
  stop_ = false;
  return running_;
}

bool RunQueue::wait_for_work() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return closed_ || (!waiting_.empty() && !running_); });
  return !closed_;
}

std::optional<std::int64_t> RunQueue::try_take() {
  std::lock_guard lock(mutex_);
  if (closed_ || waiting_.empty() || running_) return std::nullopt;
  running_ = waiting_.front();
  waiting_.pop_front();
  cancel_requested_ = false;
  stop_ = false;
  return running_;
}

void RunQueue::finish(std::int64_t run_id) {
  {
    std::lock_guard lock(mutex_);
    if (running_ != run_id) return;
    running_.reset();
    cancel_requested_ = false;
    stop_ = false;
  }
  wake_.notify_one();
}

CancelOutcome RunQueue::cancel(std::int64_t run_id) {
  std::lock_guard lock(mutex_);
  const auto it = std::find(waiting_.begin(), waiting_.end(), run_id);
  if (it != waiting_.end()) {
    waiting_.erase(it);
    return CancelOutcome::CancelledInQueue;
  }
  if (running_ == run_id) {
    cancel_requested_ = true;
    stop_ = true;
    return CancelOutcome::StopRequested;
  }
  return CancelOutcome::NotActive;
}

bool RunQueue::stop_running(std::int64_t run_id) {
  std::lock_guard lock(mutex_);
  if (running_ != run_id) return false;
  stop_ = true;
  return true;
}

void RunQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    if (running_) stop_ = true;
  }
  wake_.notify_all();
}

bool RunQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::size_t RunQueue::length() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::optional<std::int64_t> RunQueue::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::optional<int> RunQueue::position(std::int64_t run_id) const {
  std::lock_guard lock(mutex_);
  const auto it = std::find(waiting_.begin(), waiting_.end(), run_id);
  if (it == waiting_.end()) return std::nullopt;
  return static_cast<int>(it - waiting_.begin()) + 1;
}

bool RunQueue::cancel_requested() const {
  std::lock_guard lock(mutex_);
  return cancel_requested_;
}

}  // namespace derma::api
