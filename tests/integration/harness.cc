// Implementation of the integration-test harness (harness.h).
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>

namespace duro::testing {

namespace {
std::vector<char*> argvOf(const std::string& binary, const std::vector<std::string>& args,
                          std::vector<std::string>& storage) {
  storage.clear();
  storage.push_back(binary);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

int decodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& args) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) std::abort();
  std::vector<std::string> storage;
  std::vector<char*> argv = argvOf(binary, args, storage);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipeFds[1], STDERR_FILENO);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  reader_ = std::thread([this, fd = pipeFds[0]] { readStderr(fd); });
}

ServerProcess::~ServerProcess() {
  if (!exitCode_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

void ServerProcess::readStderr(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    log_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  ::close(fd);
  std::lock_guard lock(mu_);
  stderrClosed_ = true;
  cv_.notify_all();
}

uint16_t ServerProcess::waitForPort(std::chrono::milliseconds timeout) {
  static const std::regex kListening(R"(listening on http://[^ ]+:(\d+))");
  std::unique_lock lock(mu_);
  std::smatch match;
  bool found = cv_.wait_for(lock, timeout, [&] {
    return std::regex_search(log_, match, kListening) || stderrClosed_;
  });
  if (!found || !std::regex_search(log_, match, kListening)) return 0;
  return static_cast<uint16_t>(std::stoi(match[1].str()));
}

std::optional<int> ServerProcess::waitForExit(std::chrono::milliseconds timeout) {
  if (exitCode_) return exitCode_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exitCode_ = decodeWaitStatus(status);
      return exitCode_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(2ms);
  }
}

void ServerProcess::sendSignal(int signal) {
  if (!exitCode_) ::kill(pid_, signal);
}

std::string ServerProcess::log() {
  std::lock_guard lock(mu_);
  return log_;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "duro-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

HttpConnection::HttpConnection(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::sendRaw(const std::string& bytes) {
  if (fd_ < 0) return false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool HttpConnection::sendRequest(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return sendRaw(req);
}

bool HttpConnection::fill() {
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

HttpResult HttpConnection::readResponse() {
  HttpResult result;
  if (fd_ < 0) return result;
  size_t headerEnd;
  while ((headerEnd = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return result;
  }
  std::string head = buffer_.substr(0, headerEnd);
  buffer_.erase(0, headerEnd + 4);
  size_t lineEnd = head.find("\r\n");
  std::string statusLine = head.substr(0, lineEnd);
  if (statusLine.size() < 12) return result;
  int status = std::atoi(statusLine.c_str() + 9);
  size_t pos = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      result.headers[name] = line.substr(v);
    }
    pos = end + 2;
  }
  if (auto it = result.headers.find("content-length"); it != result.headers.end()) {
    size_t length = std::stoul(it->second);
    while (buffer_.size() < length) {
      if (!fill()) return result;
    }
    result.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else if (result.headers["transfer-encoding"] == "chunked") {
    for (;;) {
      size_t end;
      while ((end = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill()) return result;
      }
      size_t size = std::stoul(buffer_.substr(0, end), nullptr, 16);
      buffer_.erase(0, end + 2);
      while (buffer_.size() < size + 2) {
        if (!fill()) return result;
      }
      result.body += buffer_.substr(0, size);
      buffer_.erase(0, size + 2);
      if (size == 0) break;
    }
  }
  result.status = status;
  return result;
}

bool HttpConnection::closedByPeer() {
  if (fd_ < 0) return true;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, 0);
  if (n > 0) buffer_.push_back(c);
  return n == 0;
}

HttpResult httpGet(uint16_t port, const std::string& target) {
  HttpConnection c(port);
  return c.get(target);
}

std::pair<int, std::string> runCommand(const std::string& binary,
                                       const std::vector<std::string>& args) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) std::abort();
  std::vector<std::string> storage;
  std::vector<char*> argv = argvOf(binary, args, storage);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipeFds[1], STDOUT_FILENO);
    ::dup2(pipeFds[1], STDERR_FILENO);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipeFds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipeFds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {decodeWaitStatus(status), out};
}

}  // namespace duro::testing
