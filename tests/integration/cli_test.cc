// Tests for the `duro` command line: help, version, clear errors (exit 2) for bad usage, and the
// open-file limit it runs with.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace duro::testing {
namespace {

TEST(Cli, HelpAndVersion) {
  auto [code, out] = runCommand(DURO_BINARY, {"--help"});
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("serve"), std::string::npos);
  auto [vcode, vout] = runCommand(DURO_BINARY, {"--version"});
  EXPECT_EQ(vcode, 0);
  EXPECT_NE(vout.find("duro 0."), std::string::npos);
  auto [scode, sout] = runCommand(DURO_BINARY, {"serve", "--help"});
  EXPECT_EQ(scode, 0);
  EXPECT_NE(sout.find("--listen"), std::string::npos);
  EXPECT_NE(sout.find("--idle-timeout-ms"), std::string::npos);
}

TEST(Cli, BadUsageExitsTwoWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {{}, "subcommand"},
      {{"frobnicate"}, "frobnicate"},
      {{"serve", "--bogus"}, "--bogus"},
      {{"serve", "--threads", "abc"}, "--threads"},
      {{"serve", "--threads", "-1"}, "--threads"},
      {{"serve", "--listen", "nonsense"}, "HOST:PORT"},
      {{"serve", "--listen", "127.0.0.1:99999"}, "65535"},
      {{"serve", "--idle-timeout-ms", "0"}, "--idle-timeout-ms"},
      {{"serve", "--log-level", "loud"}, "--log-level"},
  };
  for (const Case& c : cases) {
    auto [code, out] = runCommand(DURO_BINARY, c.args);
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find(c.mentions), std::string::npos) << "output: " << out;
  }
}

TEST(Cli, ServeFailsClearlyWhenTheAddressIsTaken) {
  TempDir a, b;
  ServerProcess first(DURO_BINARY, {"serve", "--listen", "127.0.0.1:0", "--data", a.path()});
  uint16_t port = first.waitForPort();
  ASSERT_NE(port, 0) << first.log();
  EXPECT_EQ(httpGet(port, "/counter/n").body, "1");
  auto [code, out] = runCommand(
      DURO_BINARY, {"serve", "--listen", "127.0.0.1:" + std::to_string(port), "--data", b.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot listen"), std::string::npos) << out;
}

// The soft limit on open files (often 1,024) is raised to the hard limit: WebSockets and object
// databases each hold descriptors.
TEST(Cli, TheOpenFileLimitIsRaisedToTheHardLimit) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  // Started with a soft limit under the hard one (256, or half of a lower hard limit).
  const rlim_t lowered = limit.rlim_max == RLIM_INFINITY ? 256 : std::min<rlim_t>(256, limit.rlim_max / 2);
  TempDir data;
  const std::string command = "ulimit -Sn " + std::to_string(lowered) + " && exec " +
                              std::string(DURO_BINARY) +
                              " serve --listen 127.0.0.1:0 --data " + data.path();
  ServerProcess server("/bin/sh", {"-c", command});
  ASSERT_NE(server.waitForPort(), 0) << server.log();
  std::ifstream limits("/proc/" + std::to_string(server.pid()) + "/limits");
  std::string line;
  std::string soft;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(std::string("Max open files").size()));
    fields >> soft;
  }
  const std::string hard =
      limit.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_max);
  EXPECT_EQ(soft, hard);
  server.sendSignal(SIGTERM);
  EXPECT_EQ(server.waitForExit(), 0) << server.log();
}

TEST(Cli, AnUnusableDataDirIsAClearStartupError) {
  TempDir parent;
  std::string file = parent.path() + "/not-a-dir";
  { std::ofstream(file) << "x"; }
  auto [code, out] = runCommand(DURO_BINARY, {"serve", "--listen", "127.0.0.1:0", "--data", file});
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot create data directory"), std::string::npos) << out;
}

TEST(NativeCounterExample, ServesCountersAndLimits) {
  TempDir data;
  ServerProcess example(NATIVE_COUNTER_BINARY,
                        {"--listen", "127.0.0.1:0", "--data", data.path()});
  uint16_t port = example.waitForPort();
  ASSERT_NE(port, 0) << example.log();
  HttpConnection c(port);
  EXPECT_EQ(c.get("/counter/alice").body, "1");
  EXPECT_EQ(c.get("/counter/alice").body, "2");
  EXPECT_EQ(c.get("/counter/bob").body, "1");
  HttpResult limit = c.get("/limit/alice");
  EXPECT_EQ(limit.status, 200);
  EXPECT_EQ(limit.headers["content-type"], "text/plain;charset=UTF-8");
}

}  // namespace
}  // namespace duro::testing
