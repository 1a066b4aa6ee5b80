// EnvImpl: the duro::Env given to the Worker and to every object: the namespace bindings and
// the configured variables. Filled in before start, read-only afterwards (thread-safe then).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "duro/object.h"

namespace duro::runtime {

class EnvImpl final : public Env {
 public:
  void bind(std::string binding, std::unique_ptr<Namespace> ns) {
    bindings_[std::move(binding)] = std::move(ns);
  }
  void setVar(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

  Namespace& ns(std::string_view binding) const override {
    auto it = bindings_.find(binding);
    if (it == bindings_.end()) {
      throw Error(Status::notFound("no Durable Object namespace is bound as \"" +
                                   std::string(binding) + "\""));
    }
    return *it->second;
  }
  std::optional<std::string> var(std::string_view name) const override {
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::unique_ptr<Namespace>, std::less<>> bindings_;
  std::map<std::string, std::string, std::less<>> vars_;
};

}  // namespace duro::runtime
