// NamespaceBinding: the duro::Namespace that Workers and objects see in `env` (idFromName,
// newUniqueId, idFromString, get). It mints IDs with the namespace's IdFactory and sends stub
// calls into the Runtime. Immutable after start: thread-safe.
#pragma once

#include "duro/object.h"
#include "ids/id_factory.h"
#include "runtime/runtime.h"

namespace duro::runtime {

class NamespaceBinding final : public Namespace {
 public:
  NamespaceBinding(Runtime& runtime, NamespaceIndex index, ids::IdFactory ids)
      : runtime_(runtime), index_(index), ids_(std::move(ids)) {}

  const std::string& name() const override { return ids_.namespaceName(); }
  ObjectId idFromName(std::string_view name) const override { return ids_.idFromName(name); }
  ObjectId newUniqueId() const override { return ids_.newUniqueId(); }
  ObjectId idFromString(std::string_view text) const override {
    return ids_.idFromString(text).valueOrThrow();
  }
  Task<Response> fetchObject(ObjectId id, Request request) override;

  Runtime& runtime() const noexcept { return runtime_; }
  NamespaceIndex index() const noexcept { return index_; }

 private:
  Runtime& runtime_;
  NamespaceIndex index_;
  ids::IdFactory ids_;
};

}  // namespace duro::runtime
