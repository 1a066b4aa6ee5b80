// NamespaceEntry: what the runtime knows about one object class: its namespace name and how to
// construct an instance. Immutable once the runtime starts; shared by every shard.
#pragma once

#include <cstdint>
#include <string>

#include "duro/object.h"

namespace duro::runtime {

using NamespaceIndex = uint32_t;

struct NamespaceEntry {
  NamespaceIndex index = 0;
  std::string name;
  ObjectFactory factory;
  StorageBackend backend = StorageBackend::kKeyValue;
};

}  // namespace duro::runtime
