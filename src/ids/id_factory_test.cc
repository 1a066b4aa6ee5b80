// Tests for IdFactory: determinism, namespace binding, parsing errors, secret persistence.
#include "ids/id_factory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace duro::ids {
namespace {

NamespaceSecret secretOf(uint8_t fill) {
  NamespaceSecret s;
  s.fill(fill);
  return s;
}

TEST(IdFactory, IdFromNameIsDeterministicAndRemembersName) {
  IdFactory f("COUNTER", secretOf(1));
  ObjectId a = f.idFromName("alice");
  ObjectId b = f.idFromName("alice");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.toString(), b.toString());
  ASSERT_TRUE(a.name().has_value());
  EXPECT_EQ(*a.name(), "alice");
  EXPECT_NE(a, f.idFromName("bob"));
}

TEST(IdFactory, PrintsSixtyFourLowercaseHex) {
  IdFactory f("COUNTER", secretOf(1));
  std::string s = f.idFromName("alice").toString();
  ASSERT_EQ(s.size(), 64u);
  for (char c : s) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << s;
}

TEST(IdFactory, SameNameInTwoNamespacesGivesTwoIds) {
  IdFactory a("A", secretOf(1));
  IdFactory b("B", secretOf(2));
  EXPECT_NE(a.idFromName("x"), b.idFromName("x"));
}

TEST(IdFactory, NewUniqueIdsDifferAndRoundTrip) {
  IdFactory f("NS", secretOf(3));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    ObjectId id = f.newUniqueId();
    EXPECT_FALSE(id.name().has_value());
    EXPECT_TRUE(seen.insert(id.toString()).second);
    Result<ObjectId> parsed = f.idFromString(id.toString());
    ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
    EXPECT_EQ(*parsed, id);
  }
}

TEST(IdFactory, IdFromStringAcceptsUppercaseAndForgetsName) {
  IdFactory f("NS", secretOf(3));
  ObjectId id = f.idFromName("n");
  std::string upper = id.toString();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Result<ObjectId> parsed = f.idFromString(upper);
  ASSERT_TRUE(parsed.isOk());
  EXPECT_EQ(*parsed, id);
  EXPECT_FALSE(parsed->name().has_value());
}

TEST(IdFactory, IdFromStringRejectsWrongLength) {
  IdFactory f("NS", secretOf(3));
  for (std::string bad : {std::string(""), std::string("x"), std::string(63, 'a'),
                          std::string(65, 'a')}) {
    Result<ObjectId> r = f.idFromString(bad);
    ASSERT_FALSE(r.isOk());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    // workerd's exact wording (tests/compat/scenarios/ids-errors).
    EXPECT_EQ(r.status().message(), "Invalid Durable Object ID: must be 64 hex digits");
  }
}

TEST(IdFactory, IdFromStringRejectsNonHex) {
  IdFactory f("NS", secretOf(3));
  std::string s = f.idFromName("n").toString();
  s[10] = 'g';
  Result<ObjectId> r = f.idFromString(s);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "Invalid Durable Object ID: must be 64 hex digits");
}

TEST(IdFactory, IdFromStringRejectsIdsOfAnotherNamespaceAndForgeries) {
  IdFactory a("A", secretOf(1));
  IdFactory b("B", secretOf(2));
  Result<ObjectId> r = b.idFromString(a.idFromName("x").toString());
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "Durable Object ID is not valid for this namespace.");

  // Flipping any one bit of a valid ID makes it invalid.
  std::string s = a.newUniqueId().toString();
  s[0] = s[0] == '0' ? '1' : '0';
  EXPECT_FALSE(a.idFromString(s).isOk());
  EXPECT_FALSE(a.idFromString(std::string(64, '0')).isOk());
}

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("duro-ids-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretFileTest, SecretIsCreatedOnceAndReloaded) {
  Result<NamespaceSecret> first = loadOrCreateNamespaceSecret(dir_, "COUNTER");
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  auto file = dir_ / "COUNTER" / "namespace.key";
  ASSERT_TRUE(std::filesystem::exists(file));
  struct stat st{};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Result<NamespaceSecret> second = loadOrCreateNamespaceSecret(dir_, "COUNTER");
  ASSERT_TRUE(second.isOk());
  EXPECT_EQ(*first, *second);

  // IDs minted before a "restart" stay valid after it.
  std::string id = IdFactory("COUNTER", *first).newUniqueId().toString();
  EXPECT_TRUE(IdFactory("COUNTER", *second).idFromString(id).isOk());

  Result<NamespaceSecret> other = loadOrCreateNamespaceSecret(dir_, "OTHER");
  ASSERT_TRUE(other.isOk());
  EXPECT_NE(*first, *other);
}

TEST_F(SecretFileTest, DamagedSecretIsAClearError) {
  std::filesystem::create_directories(dir_ / "NS");
  std::ofstream(dir_ / "NS" / "namespace.key") << "not hex\n";
  Result<NamespaceSecret> r = loadOrCreateNamespaceSecret(dir_, "NS");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("damaged"), std::string::npos);
}

TEST_F(SecretFileTest, BadNamespaceNamesAreRejected) {
  for (const char* bad : {"", "../x", "a/b", "-x", "sp ace"}) {
    EXPECT_FALSE(loadOrCreateNamespaceSecret(dir_, bad).isOk()) << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".." / "x"));
}

TEST(NamespaceSecret, ParsesConfiguredHex) {
  EXPECT_TRUE(parseNamespaceSecret(std::string(64, 'a')).isOk());
  EXPECT_FALSE(parseNamespaceSecret(std::string(63, 'a')).isOk());
  EXPECT_FALSE(parseNamespaceSecret(std::string(64, 'z')).isOk());
}

}  // namespace
}  // namespace duro::ids
