// Integration-test harness: starts a duro server binary as a child process on a free loopback
// port (it listens on 127.0.0.1:0 and the harness reads the bound port from its log), and a small
// blocking HTTP/1.1 client over real sockets. Every process a test starts is killed and reaped
// when its ServerProcess is destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace duro::testing {

using namespace std::chrono_literals;

class ServerProcess {
 public:
  // Runs `binary args...`, capturing stderr. Does not wait for anything.
  ServerProcess(const std::string& binary, const std::vector<std::string>& args);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits until the server logs "listening on http://HOST:PORT"; returns the port, or 0 if the
  // process exited or the timeout passed first.
  uint16_t waitForPort(std::chrono::milliseconds timeout = 20s);
  // Waits for the process to exit; its exit code (or 128+signal), or nullopt on timeout.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout = 30s);
  void sendSignal(int signal);
  // Everything it wrote to stderr so far.
  std::string log();
  int pid() const { return pid_; }

 private:
  void readStderr(int fd);

  int pid_ = -1;
  std::optional<int> exitCode_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;
  bool stderrClosed_ = false;
};

// A fresh empty directory under /tmp, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct HttpResult {
  int status = 0;  // 0: no response (connection failed or closed)
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

// One keep-alive connection to 127.0.0.1:port with blocking I/O and a receive timeout.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port, std::chrono::milliseconds timeout = 20s);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends raw bytes.
  bool sendRaw(const std::string& bytes);
  // Sends a request (Host and Content-Length added).
  bool sendRequest(const std::string& method, const std::string& target,
                   const std::string& body = "",
                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Reads one response (Content-Length or chunked bodies).
  HttpResult readResponse();
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = "") {
    if (!sendRequest(method, target, body)) return {};
    return readResponse();
  }
  HttpResult get(const std::string& target) { return request("GET", target); }
  // True once the server has closed the connection (reads EOF).
  bool closedByPeer();

 private:
  bool fill();
  int fd_ = -1;
  std::string buffer_;
};

// One GET on a fresh connection.
HttpResult httpGet(uint16_t port, const std::string& target);

// Polls `pred` every millisecond until it is true or `timeout` passes.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// Runs a binary to completion; returns {exit code, stdout+stderr}.
std::pair<int, std::string> runCommand(const std::string& binary,
                                       const std::vector<std::string>& args);

}  // namespace duro::testing
