// ObjectEvent: one unit of work delivered to a Durable Object (a fetch, later an alarm, an RPC
// call or a WebSocket message). The runtime queues events per object and runs them on the
// object's shard, one at a time, in arrival order, subject to the input gate. JS and native
// objects receive the same events.
#pragma once

#include "duro/object.h"
#include "duro/status.h"
#include "duro/task.h"

namespace duro::runtime {

class ObjectHost;

class ObjectEvent {
 public:
  virtual ~ObjectEvent() = default;
  // Runs the event on the object's shard. Must not throw: an event catches its handler's errors
  // and reports them to whoever is waiting for it.
  virtual Task<void> run(ObjectHost& host, DurableObject& object) = 0;
  // The event will never run: the object's queue is full, its constructor threw, or the server is
  // stopping. Called on the object's shard (or the sender's thread if it never got there).
  virtual void fail(Status status) = 0;
  // An event of a hibernatable WebSocket: it may run at most the object's WebSocket event timeout.
  virtual bool isHibernatableSocketEvent() const { return false; }
};

}  // namespace duro::runtime
