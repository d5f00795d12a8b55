// The daemon's queue: first in, first out, one run on the rig at a time. Only ids and the
// running run's stop flag live here; the results database holds everything else.
// Thread-safe: the HTTP thread submits and cancels, the worker thread takes and finishes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace derma::api {

enum class CancelOutcome {
  CancelledInQueue,  // it was waiting: removed, it never touches the rig
  StopRequested,     // it is running: its stop flag is set, the runner aborts safely
  NotActive,         // neither queued nor running (final, or unknown to this queue)
};

class RunQueue {
 public:
  // False once the queue is closed (the daemon is stopping): no new runs.
  bool push(std::int64_t run_id);
  // Blocks until a run is waiting (it becomes the running one) or the queue is closed.
  std::optional<std::int64_t> take();
  // Blocks until a run is waiting and none is running (true), or the queue is closed (false);
  // takes nothing: the worker may first wait for the rig, the run still queued meanwhile.
  bool wait_for_work();
  // The next waiting run becomes the running one; nullopt when none waits (all cancelled
  // meanwhile) or the queue is closed.
  std::optional<std::int64_t> try_take();
  // The worker is done with the running run.
  void finish(std::int64_t run_id);
  CancelOutcome cancel(std::int64_t run_id);
  // Asks the running run to stop without calling it cancelled (the daemon lost its claim on
  // a fleet job); false when that run is not the one running.
  bool stop_running(std::int64_t run_id);
  // Stops accepting runs, wakes take(), and asks the running run to stop.
  void close();

  bool closed() const;
  std::size_t length() const;
  std::optional<std::int64_t> running() const;
  // 1-based place of a waiting run (1 = next), nullopt when not waiting.
  std::optional<int> position(std::int64_t run_id) const;
  // Whether the running run was cancelled (rather than stopped by shutdown).
  bool cancel_requested() const;

  // The flag the runner polls (RunOptions::stop_requested) for the running run.
  const std::atomic<bool>* stop_flag() const { return &stop_; }

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::int64_t> waiting_;
  std::optional<std::int64_t> running_;
  bool closed_ = false;
  bool cancel_requested_ = false;
  std::atomic<bool> stop_{false};
};

}  // namespace derma::api
