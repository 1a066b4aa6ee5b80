// Implementation of OutputGate (output_gate.h): numbered writes, outputs held in order.
#include "runtime/output_gate.h"

#include <utility>

namespace duro::runtime {

void OutputGate::whenDurable(Release release) {
  if (!failed_.isOk()) {
    release(failed_);
    return;
  }
  if (durable_ >= issued_ && held_.empty()) {
    release(Status::ok());
    return;
  }
  held_.push_back(Held{issued_, std::move(release)});
}

void OutputGate::writesDurableThrough(uint64_t n) {
  if (n > durable_) durable_ = n;
  size_t released = 0;
  while (released < held_.size() && held_[released].waitFor <= durable_) ++released;
  if (released == 0) return;
  std::vector<Held> ready(std::make_move_iterator(held_.begin()),
                          std::make_move_iterator(held_.begin() + static_cast<long>(released)));
  held_.erase(held_.begin(), held_.begin() + static_cast<long>(released));
  for (Held& h : ready) h.release(Status::ok());
}

void OutputGate::fail(Status error) {
  failed_ = std::move(error);
  std::vector<Held> held = std::move(held_);
  held_.clear();
  for (Held& h : held) h.release(failed_);
}

void OutputGate::reset() {
  failed_ = Status::ok();
  durable_ = issued_;
}

}  // namespace duro::runtime
