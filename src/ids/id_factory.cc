// Implementation of IdFactory and the namespace-secret file (id_factory.h).
#include "ids/id_factory.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duro::ids {

namespace {

constexpr size_t kBodySize = 16;
constexpr size_t kCheckSize = ObjectId::kSize - kBodySize;
constexpr char kHexDigits[] = "0123456789abcdef";

// HMAC-SHA256(secret, label || '\0' || data) into out[32].
void keyedHash(const NamespaceSecret& secret, std::string_view label, const void* data,
               size_t size, uint8_t out[32]) {
  std::string message;
  message.reserve(label.size() + 1 + size);
  message.append(label);
  message.push_back('\0');
  message.append(static_cast<const char*>(data), size);
  unsigned int outLen = 32;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
           &outLen) == nullptr) {
    throw Error(Status::internal("HMAC-SHA256 failed"));
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes exactly out.size()*2 hex characters; false on a non-hex character.
template <size_t N>
bool decodeHex(std::string_view text, std::array<uint8_t, N>& out) {
  for (size_t i = 0; i < N; ++i) {
    int hi = hexValue(text[2 * i]), lo = hexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
std::string encodeHex(const std::array<uint8_t, N>& bytes) {
  std::string s(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    s[2 * i] = kHexDigits[bytes[i] >> 4];
    s[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return s;
}

Status errnoStatus(const std::string& what, const std::filesystem::path& path) {
  return Status::storage(what + " " + path.string() + ": " + std::strerror(errno));
}

Status fsyncPath(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errnoStatus("cannot fsync", path);
  return Status::ok();
}

}  // namespace

}  // namespace duro::ids

namespace duro::ids {

IdFactory::IdFactory(std::string namespaceName, const NamespaceSecret& secret)
    : namespace_(std::move(namespaceName)), secret_(secret) {}

ObjectId IdFactory::finish(const uint8_t* body, std::optional<std::string> name) const {
  ObjectId::Bytes bytes{};
  std::memcpy(bytes.data(), body, kBodySize);
  uint8_t check[32];
  keyedHash(secret_, "check", body, kBodySize, check);
  std::memcpy(bytes.data() + kBodySize, check, kCheckSize);
  return ObjectId(bytes, std::move(name));
}

ObjectId IdFactory::idFromName(std::string_view name) const {
  uint8_t digest[32];
  keyedHash(secret_, "name", name.data(), name.size(), digest);
  return finish(digest, std::string(name));
}

ObjectId IdFactory::newUniqueId() const {
  uint8_t body[kBodySize];
  if (RAND_bytes(body, sizeof body) != 1) {
    throw Error(Status::internal("the cryptographic random source failed"));
  }
  return finish(body, std::nullopt);
}

Result<ObjectId> IdFactory::idFromString(std::string_view text) const {
  if (text.size() != 2 * ObjectId::kSize) {
    return Status::invalidArgument("Invalid Durable Object ID: must be 64 hex digits");
  }
  ObjectId::Bytes bytes{};
  if (!decodeHex(text, bytes)) {
    return Status::invalidArgument(
        "Invalid Durable Object ID: must be 64 hex digits");
  }
  uint8_t check[32];
  keyedHash(secret_, "check", bytes.data(), kBodySize, check);
  if (CRYPTO_memcmp(check, bytes.data() + kBodySize, kCheckSize) != 0) {
    return Status::invalidArgument("Durable Object ID is not valid for this namespace.");
  }
  return ObjectId(bytes);
}

Status validateNamespaceName(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return Status::invalidArgument("namespace name must be 1 to 128 characters");
  }
  if (name[0] == '-') return Status::invalidArgument("namespace name must not start with '-'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return Status::invalidArgument("namespace name \"" + std::string(name) +
                                     "\" may contain only letters, digits, '_' and '-'");
    }
  }
  return Status::ok();
}

Result<NamespaceSecret> parseNamespaceSecret(std::string_view hex) {
  NamespaceSecret secret{};
  if (hex.size() != 2 * secret.size() || !decodeHex(hex, secret)) {
    return Status::invalidArgument("a namespace secret must be 64 hex digits");
  }
  return secret;
}

Result<NamespaceSecret> loadOrCreateNamespaceSecret(const std::filesystem::path& dataDir,
                                                    std::string_view namespaceName) {
  if (Status s = validateNamespaceName(namespaceName); !s) return s;
  const std::filesystem::path dir = dataDir / std::string(namespaceName);
  const std::filesystem::path file = dir / "namespace.key";

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::storage("cannot create directory " + dir.string() + ": " + ec.message());
  }

  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[80];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n < 0) return errnoStatus("cannot read", file);
    std::string_view text(buf, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    Result<NamespaceSecret> secret = parseNamespaceSecret(text);
    if (!secret) {
      return Status::storage(file.string() + " is damaged: " + secret.status().message());
    }
    return secret;
  }
  if (errno != ENOENT) return errnoStatus("cannot open", file);

  // Create: write a temporary file, fsync it, rename into place, fsync the directory, so a crash
  // leaves either no key or a whole one. No other process races this: a server holds an
  // exclusive lock on its data dir.
  NamespaceSecret secret{};
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return Status::internal("the cryptographic random source failed");
  }
  std::string text = encodeHex(secret) + "\n";
  const std::filesystem::path tmp = dir / "namespace.key.tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errnoStatus("cannot create", tmp);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return errnoStatus("cannot write", tmp);
  if (::rename(tmp.c_str(), file.c_str()) != 0) return errnoStatus("cannot rename", tmp);
  if (Status s = fsyncPath(dir, O_RDONLY | O_DIRECTORY); !s) return s;
  return secret;
}

}  // namespace duro::ids
