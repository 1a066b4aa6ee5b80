// Tests for OutputGate: outputs wait for the writes issued before them, in order; failures poison.
#include "runtime/output_gate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duro::runtime {
namespace {

TEST(OutputGate, ReleasesAtOnceWithNoWritesPending) {
  OutputGate gate;
  std::vector<std::string> log;
  gate.whenDurable([&](const Status& s) { log.push_back(s.isOk() ? "a" : "a-err"); });
  EXPECT_EQ(log, std::vector<std::string>{"a"});
}

TEST(OutputGate, HoldsOutputsUntilEarlierWritesAreDurable) {
  OutputGate gate;
  std::vector<std::string> log;
  uint64_t w1 = gate.beginWrite();
  gate.whenDurable([&](const Status&) { log.push_back("out1"); });
  uint64_t w2 = gate.beginWrite();
  gate.whenDurable([&](const Status&) { log.push_back("out2"); });
  // An output with no new writes still waits behind out2 (outputs leave in order).
  gate.whenDurable([&](const Status&) { log.push_back("out3"); });
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(gate.hasPendingWrites());
  gate.writesDurableThrough(w1);
  EXPECT_EQ(log, std::vector<std::string>{"out1"});
  gate.writesDurableThrough(w2);
  EXPECT_EQ(log, (std::vector<std::string>{"out1", "out2", "out3"}));
  EXPECT_FALSE(gate.hasPendingWrites());
}

TEST(OutputGate, GroupCommitReleasesManyAtOnce) {
  OutputGate gate;
  int released = 0;
  uint64_t last = 0;
  for (int i = 0; i < 10; ++i) {
    last = gate.beginWrite();
    gate.whenDurable([&](const Status&) { ++released; });
  }
  gate.writesDurableThrough(last);
  EXPECT_EQ(released, 10);
}

TEST(OutputGate, FailureTurnsHeldAndLaterOutputsIntoErrorsUntilReset) {
  OutputGate gate;
  std::vector<std::string> log;
  gate.beginWrite();
  gate.whenDurable([&](const Status& s) { log.push_back(s.isOk() ? "ok" : s.message()); });
  gate.fail(Status::storage("disk full"));
  gate.whenDurable([&](const Status& s) { log.push_back(s.isOk() ? "ok" : s.message()); });
  EXPECT_EQ(log, (std::vector<std::string>{"disk full", "disk full"}));
  gate.reset();
  gate.whenDurable([&](const Status& s) { log.push_back(s.isOk() ? "ok" : s.message()); });
  EXPECT_EQ(log.back(), "ok");
}

}  // namespace
}  // namespace duro::runtime
