// IdFactory: mints and validates the Durable Object IDs of one namespace (idFromName,
// newUniqueId, idFromString), and the per-namespace secret that binds IDs to their namespace.
//
// ID layout (32 bytes):  body[16] | check[16]
//   named:   body = HMAC-SHA256(secret, "name\0" || name)[0..16)    (deterministic)
//   unique:  body = 16 bytes from OpenSSL's CSPRNG
//   check  = HMAC-SHA256(secret, "check\0" || body)[0..16)
// The secret is per namespace, so the same name gives different IDs in two namespaces, and an ID
// from one namespace (or a made-up one) fails the check in another: IDs cannot be forged without
// the secret. The secret lives with the data (<data>/<namespace>/namespace.key) or in config, so IDs
// stay valid across restarts. An IdFactory is immutable after creation: safe to share across threads.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "duro/id.h"
#include "duro/status.h"

namespace duro::ids {

using NamespaceSecret = std::array<uint8_t, 32>;

class IdFactory {
 public:
  IdFactory(std::string namespaceName, const NamespaceSecret& secret);

  const std::string& namespaceName() const { return namespace_; }

  // Deterministic: the same name in the same namespace always gives the same ID.
  ObjectId idFromName(std::string_view name) const;
  // A fresh random ID (cryptographic source). Throws duro::Error if the CSPRNG fails.
  ObjectId newUniqueId() const;
  // Parses 64 hex characters (either case) and checks that the ID belongs to this namespace.
  // Errors (kInvalidArgument) say which rule failed: length, non-hex character, other namespace.
  Result<ObjectId> idFromString(std::string_view text) const;

 private:
  ObjectId finish(const uint8_t* body, std::optional<std::string> name) const;

  std::string namespace_;
  NamespaceSecret secret_;
};

// Namespace names become directory names: 1-128 chars of [A-Za-z0-9_-], not starting with '-'.
Status validateNamespaceName(std::string_view name);

// Reads <dataDir>/<namespaceName>/namespace.key (64 hex chars), creating it with a fresh random
// secret (mode 0600, written atomically and fsync'd) if it does not exist yet.
Result<NamespaceSecret> loadOrCreateNamespaceSecret(const std::filesystem::path& dataDir,
                                                    std::string_view namespaceName);

// Parses a configured secret given as 64 hex characters.
Result<NamespaceSecret> parseNamespaceSecret(std::string_view hex);

}  // namespace duro::ids
