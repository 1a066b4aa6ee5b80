// Implementation of Script (script.h).
#include "js/script.h"

#include <fstream>
#include <sstream>

namespace duro::js {

std::string Script::moduleName(const std::filesystem::path& path) const {
  std::filesystem::path relative = path.lexically_relative(options_.baseDir);
  if (relative.empty() || *relative.begin() == "..") return path.generic_string();
  return relative.generic_string();
}

Result<std::shared_ptr<const std::string>> Script::source(const std::filesystem::path& path) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(path);
  if (it != sources_.end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound("cannot read module " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  auto contents = std::make_shared<const std::string>(text.str());
  sources_.emplace(path, contents);
  return contents;
}

}  // namespace duro::js
