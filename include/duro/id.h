// duro::ObjectId: the 32-byte identity of one Durable Object within its namespace. Printed as 64
// lowercase hex characters. An ID made by idFromName remembers the name (like Cloudflare's
// `id.name`); the name is not part of equality. IDs are minted and validated by the namespace
// (src/ids/id_factory.h), which binds every ID to its namespace with a keyed check.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace duro {

class ObjectId {
 public:
  static constexpr size_t kSize = 32;
  using Bytes = std::array<uint8_t, kSize>;

  ObjectId() = default;
  explicit ObjectId(const Bytes& bytes, std::optional<std::string> name = std::nullopt)
      : bytes_(bytes), name_(std::move(name)) {}

  const Bytes& bytes() const noexcept { return bytes_; }
  // 64 lowercase hex characters.
  std::string toString() const;
  // The name given to idFromName, or nullopt for unique IDs and IDs parsed from strings.
  const std::optional<std::string>& name() const noexcept { return name_; }

  bool operator==(const ObjectId& other) const noexcept { return bytes_ == other.bytes_; }
  bool equals(const ObjectId& other) const noexcept { return *this == other; }

  // A well-mixed 64-bit hash (the ID bytes are already uniformly distributed).
  uint64_t hash() const noexcept {
    uint64_t h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    return h;
  }

 private:
  Bytes bytes_{};
  std::optional<std::string> name_;
};

struct ObjectIdHash {
  size_t operator()(const ObjectId& id) const noexcept { return id.hash(); }
};

}  // namespace duro
