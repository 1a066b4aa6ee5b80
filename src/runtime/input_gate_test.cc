// Tests for InputGate: counted locks, onOpen when the last one goes.
#include "runtime/input_gate.h"

#include <gtest/gtest.h>

namespace duro::runtime {
namespace {

TEST(InputGate, OpensWhenTheLastLockIsReleased) {
  int opened = 0;
  InputGate gate([&] { ++opened; });
  EXPECT_TRUE(gate.isOpen());
  {
    InputGate::Lock a = gate.lock();
    InputGate::Lock b = gate.lock();
    EXPECT_FALSE(gate.isOpen());
    EXPECT_EQ(gate.lockCount(), 2u);
    a.release();
    EXPECT_FALSE(gate.isOpen());
    EXPECT_EQ(opened, 0);
    InputGate::Lock moved = std::move(b);
    EXPECT_EQ(gate.lockCount(), 1u);
  }
  EXPECT_TRUE(gate.isOpen());
  EXPECT_EQ(opened, 1);
}

static_assert(std::is_nothrow_move_constructible_v<InputGate::Lock>);

}  // namespace
}  // namespace duro::runtime
